import type { RequestContext } from '../context.ts';

/**
 * What a host (the runtime's metrics) is told of each run of a method's handler, from
 * the server's own path: no wrapper around the handler, so none of its promises and ticks.
 */
export interface HandlerObserver {
  /** The handler of `call` starts (`call.startedAt` is set). */
  started(call: RequestContext): void;
  /** It returned (a stream's handler: ended) after `runMs`. */
  succeeded(runMs: number): void;
  /** It threw `error` after `runMs`. */
  failed(runMs: number, error: unknown): void;
}
