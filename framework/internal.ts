/**
 * What generated code and corpc's own runtime need beyond the public API. Not for users:
 * it may change between minor versions.
 */
export { now, sharedWheel, TimingWheel } from './deadline.ts';
export { InFlightTable } from './transport/in-flight-table.ts';
/** The server's answer to a request shed by its level (packed once); bench/micro/admission.ts answers it from its floor. */
export { SHED_BY_LEVEL } from './transport/server.ts';
export type { TimerEntry } from './deadline.ts';
export { runInContext, userPriorityOfTrace } from './context.ts';
export { integerOption, numberOption, booleanOption, stringOption, oneOfOption, closestName, unknownKey } from './options.ts';
export * as protocol from './protocol/index.ts';
export { EntryPriorities } from './admission/entry-priorities.ts';
export { defaultResolver } from './resolver/index.ts';
export { percentile } from './admission/controller.ts';
export { attribute as attributeLoopDelay } from './admission/loop-delay.ts';
export { DeferredQueue, TURN_BUDGET_MS } from './transport/loop-turn.ts';
