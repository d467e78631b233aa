/**
 * The retry rules alone (framework/transport/retry-rules.ts): each test changes one input of a
 * call that would otherwise be retried, and checks the decision and what the budget paid.
 * The end-to-end retries (real servers) are in admission-overload and transport-drain.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RemoteRpcError, RpcError, Status, type MethodDescriptor } from 'corpc';
import {
  RetryBudget,
  type RetryCandidate,
  type RetryScope,
  compoundLevel,
  decideRetry,
  isNeverStarted,
  retryableUnderBudget,
} from 'corpc/internal';

const method: MethodDescriptor = { name: 'get', path: 'Kv/get' };
const idempotent: MethodDescriptor = { name: 'get', path: 'Kv/get', idempotent: true };
const AT = 1000;

const overloaded = () =>
  new RemoteRpcError(Status.RESOURCE_EXHAUSTED, 'Kv/get: overloaded', '10.0.0.1:7001', 'admission_level');
const draining = () =>
  new RemoteRpcError(Status.UNAVAILABLE, 'Kv/get: the server is draining', '10.0.0.1:7001', 'draining');
const dropped = () => new RpcError(Status.UNAVAILABLE, 'connection to 10.0.0.1:7001 closed', { reason: 'unavailable' });

/** A call that every rule lets through: first retry, 100 ms left, no parent. */
function candidate(change: Partial<RetryCandidate> = {}): RetryCandidate {
  return { method, retries: 0, deadline: AT + 100, business: 5, user: 20, parent: null, ...change };
}

/** An open channel, 3 retries at most, a full budget (10 tokens a priority), no subchannel shedding. */
function scope(change: { open?: boolean; budget?: RetryBudget; sheds?: (level: number) => boolean } = {}): RetryScope {
  return {
    isOpen: () => change.open ?? true,
    budget: change.budget ?? new RetryBudget(3, 0.1, 10),
    shedsEverywhere: (level) => change.sheds?.(level) ?? false,
  };
}

test('an overload rejection from a server is retried, and takes one token of its business priority', () => {
  const budget = new RetryBudget(3, 0.1, 10);
  assert.is(decideRetry(candidate(), overloaded(), AT, scope({ budget })), 'retry');
  assert.is(budget.available(5), 9);
  assert.is(budget.available(0), 10);
});

test('the retry limit: a call retried maxRetries times already fails', () => {
  assert.is(decideRetry(candidate({ retries: 2 }), overloaded(), AT, scope()), 'retry');
  assert.is(decideRetry(candidate({ retries: 3 }), overloaded(), AT, scope()), 'fail');
  assert.is(decideRetry(candidate(), overloaded(), AT, scope({ budget: new RetryBudget(0, 0.1, 10) })), 'fail');
});

test('the deadline: less than 1 ms left fails', () => {
  assert.is(decideRetry(candidate({ deadline: AT + 1 }), overloaded(), AT, scope()), 'retry');
  assert.is(decideRetry(candidate({ deadline: AT + 0.5 }), overloaded(), AT, scope()), 'fail');
  assert.is(decideRetry(candidate({ deadline: AT - 10 }), draining(), AT, scope()), 'fail');
});

test('a closing channel retries nothing, not even a never-started request', () => {
  assert.is(decideRetry(candidate(), overloaded(), AT, scope({ open: false })), 'fail');
  assert.is(decideRetry(candidate(), draining(), AT, scope({ open: false })), 'fail');
});

test('a call whose parent request was cancelled is not retried', () => {
  assert.is(decideRetry(candidate({ parent: { cancelled: false } }), overloaded(), AT, scope()), 'retry');
  assert.is(decideRetry(candidate({ parent: { cancelled: true } }), overloaded(), AT, scope()), 'fail');
});

test('never started (the server was draining): retried free, even with the budget spent or every level shedding', () => {
  assert.ok(isNeverStarted(draining()));
  assert.not.ok(isNeverStarted(overloaded()));
  assert.not.ok(
    isNeverStarted(new RpcError(Status.UNAVAILABLE, 'local', { reason: 'draining' })),
    'only a server says draining',
  );
  const budget = new RetryBudget(3, 0.1, 10);
  while (budget.trySpend(5));
  assert.is(decideRetry(candidate(), draining(), AT, scope({ budget, sheds: () => true })), 'retry');
  assert.is(budget.available(5), 0);
});

test('which failures the budget may pay for: remote RESOURCE_EXHAUSTED, and UNAVAILABLE of an idempotent method', () => {
  assert.ok(retryableUnderBudget(overloaded(), method));
  assert.not.ok(retryableUnderBudget(new RemoteRpcError(Status.INTERNAL, 'boom', '10.0.0.1:7001', undefined), method));
  assert.not.ok(
    retryableUnderBudget(new RemoteRpcError(Status.UNAVAILABLE, 'gone', '10.0.0.1:7001', undefined), idempotent),
    'a server answer other than overload is final',
  );
  // Local errors: a dropped connection only for an idempotent method; a local shed never.
  assert.not.ok(retryableUnderBudget(dropped(), method));
  assert.ok(retryableUnderBudget(dropped(), idempotent));
  assert.not.ok(
    retryableUnderBudget(new RpcError(Status.RESOURCE_EXHAUSTED, 'shed', { reason: 'local_admission' }), idempotent),
  );
  assert.not.ok(
    retryableUnderBudget(new RpcError(Status.DEADLINE_EXCEEDED, 'late', { reason: 'deadline' }), idempotent),
  );
  assert.is(decideRetry(candidate(), dropped(), AT, scope()), 'fail');
  assert.is(decideRetry(candidate({ method: idempotent }), dropped(), AT, scope()), 'retry');
});

test('when every subchannel sheds the call, the rejection is the outcome and no token is taken', () => {
  const budget = new RetryBudget(3, 0.1, 10);
  const levels: number[] = [];
  const sheds = (level: number) => {
    levels.push(level);
    return true;
  };
  assert.is(decideRetry(candidate(), overloaded(), AT, scope({ budget, sheds })), 'fail');
  assert.equal(levels, [compoundLevel(5, 20)], "asked with the call's compound level");
  assert.is(budget.available(5), 10);
});

test('a spent budget denies the retry (counted apart), and only for that business priority', () => {
  const budget = new RetryBudget(3, 0.5, 10);
  while (budget.trySpend(5));
  assert.is(decideRetry(candidate(), overloaded(), AT, scope({ budget })), 'denied');
  assert.is(decideRetry(candidate({ business: 6 }), overloaded(), AT, scope({ budget })), 'retry');
  // Successes refill it: two at 0.5 make a token.
  budget.success(5);
  assert.is(decideRetry(candidate(), overloaded(), AT, scope({ budget })), 'denied');
  budget.success(5);
  assert.is(decideRetry(candidate(), overloaded(), AT, scope({ budget })), 'retry');
});

test.run();
