import { Reason, RemoteRpcError, type RpcError, Status } from '../errors.ts';
import { compoundLevel } from '../priority.ts';
import type { MethodDescriptor } from '../service.ts';
import type { RetryBudget } from './retry-budget.ts';

/** What the rules read of a call whose attempt failed (a `ClientCall` is one). */
export interface RetryCandidate {
  readonly method: MethodDescriptor;
  /** Attempts after the first, so far. */
  readonly retries: number;
  /** Absolute, in `now()` time. */
  readonly deadline: number;
  readonly business: number;
  readonly user: number;
  /** The request the call was made in, if any. */
  readonly parent: { readonly cancelled: boolean } | null;
}

/** What the rules read of the channel. */
export interface RetryScope {
  /** False once the channel is closing. */
  isOpen(): boolean;
  readonly budget: RetryBudget;
  /** True when every ready subchannel's reported level sheds calls of compound level `level`. */
  shedsEverywhere(level: number, at: number): boolean;
}

/**
 * `retry`: send the call again. `fail`: the error is the call's outcome. `denied`: it would have
 * been retried, but its business priority's retry budget is spent (counted apart, so an operator
 * sees the budget at work).
 */
export type RetryDecision = 'retry' | 'fail' | 'denied';

/**
 * Whether a call whose attempt failed with `error` at `at` is sent again. Retried within the
 * deadline, at most `budget.maxRetries` times, while the channel is open and the parent request
 * is not cancelled: a request the server never started, free; under the retry budget (a token
 * taken here), an overload rejection that a server decided (never a local one) and a dropped
 * connection for an idempotent method, but not when every subchannel's level sheds the call:
 * then the callee's own answer is the outcome.
 */
export function decideRetry(call: RetryCandidate, error: RpcError, at: number, scope: RetryScope): RetryDecision {
  if (
    call.retries >= scope.budget.maxRetries ||
    call.deadline - at < 1 ||
    !scope.isOpen() ||
    call.parent?.cancelled === true
  )
    return 'fail';
  if (isNeverStarted(error)) return 'retry';
  if (!retryableUnderBudget(error, call.method) || scope.shedsEverywhere(compoundLevel(call.business, call.user), at))
    return 'fail';
  return scope.budget.trySpend(call.business) ? 'retry' : 'denied';
}

/** A request the server answered without starting it (it was draining): always safe to send again. */
export function isNeverStarted(error: RpcError): boolean {
  return error instanceof RemoteRpcError && error.reason === Reason.Draining;
}

/** Failures a retry may fix, spending the retry budget. */
export function retryableUnderBudget(error: RpcError, method: MethodDescriptor): boolean {
  if (error instanceof RemoteRpcError) return error.status === Status.RESOURCE_EXHAUSTED;
  // A dropped connection: the request may or may not have run, so only an idempotent one is sent again.
  return error.status === Status.UNAVAILABLE && method.idempotent === true;
}
