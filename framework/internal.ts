/**
 * `corpc/internal`: what generated code and other libraries need beyond the public API
 * (`corpc`), and what corpc's own runtime, tests and benchmarks reach into. Not for applications.
 */

// For generated code (`corpc gen`) and other libraries: stable.
/** What the validating decoders share (error building, small checks); generated modules destructure it once. */
export * as validation from './validation.ts';
export { statusName, isStatus } from './errors.ts';
export { DEFAULT_TIMEOUT_MS, newTraceId, runInContext, userPriorityOfTrace } from './context.ts';
export { ADMIT_ALL, compoundLevel, businessOf, userOf } from './priority.ts';
export { CLIENT_RESERVED_NAMES } from './client.ts';

// For corpc's runtime, tests and benchmarks: may change between minor versions.
export { now, sharedWheel, TimingWheel } from './deadline.ts';
export type { TimerEntry } from './deadline.ts';
export { InFlightTable } from './transport/in-flight-table.ts';
export { decideRetry, isNeverStarted, retryableUnderBudget } from './transport/retry-rules.ts';
export type { RetryCandidate, RetryDecision, RetryScope } from './transport/retry-rules.ts';
export { RetryBudget } from './transport/retry-budget.ts';
export { CalleeLevelCache } from './transport/callee-level-cache.ts';
/** The server's answer to a request shed by its level (packed once); bench/micro/admission.ts answers it from its floor. */
export { SHED_BY_LEVEL } from './transport/server.ts';
export type { HandlerObserver } from './transport/handler-observer.ts';
export { DeferredQueue, TURN_BUDGET_MS } from './transport/loop-turn.ts';
export { HandlerScope } from './context.ts';
export {
  integerOption,
  numberOption,
  booleanOption,
  stringOption,
  oneOfOption,
  closestName,
  unknownKey,
} from './options.ts';
export * as protocol from './protocol/index.ts';
export { AdmissionController, percentile } from './admission/controller.ts';
export { POLICY_NAMES } from './admission/policies.ts';
export { EntryPriorities } from './admission/entry-priorities.ts';
export { attribute as attributeLoopDelay } from './admission/loop-delay.ts';
export { defaultResolver, formatHostPort } from './resolver/index.ts';
export { PowerOfTwoChoices, RoundRobin } from './balancer.ts';
export { interceptClient, interceptServer, interceptorsOption } from './interceptors.ts';
export { streamingMethod } from './client-streams.ts';
export type { Handler, SendCall } from './interceptors.ts';
export { TRACEPARENT, TRACESTATE, parseTraceParent, parseTraceState, formatTraceParent } from './trace-context.ts';
export type { TraceParent } from './trace-context.ts';
