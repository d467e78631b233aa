/**
 * The request context: running a handler inside it (AsyncLocalStorage), sync and async, vs a
 * direct call; `runInContext` is `storage.run()`, a server's `HandlerScope` the way it runs its
 * handlers (one frame per call on Node 24's AsyncContextFrame instead of two).
 */
import { RequestContext, currentContext } from 'corpc';
import { HandlerScope, now, runInContext } from 'corpc/internal';
import { measure, measureAsync, type MicroResult } from './measure.ts';

export async function main(): Promise<MicroResult[]> {
  const ctx = new RequestContext('Echo/echo', now() + 500, 63, 42, 'trace', '127.0.0.1:1', null);
  const handler = (request: { text: string }): { text: string } => ({ text: request.text });
  const asyncHandler = async (request: { text: string }): Promise<{ text: string }> => {
    currentContext();
    return { text: request.text };
  };
  const request = { text: 'x' };
  const scope = new HandlerScope();
  return [
    await measure('direct call (baseline)', () => handler(request)),
    await measure('runInContext (sync handler)', () => runInContext(ctx, handler, request)),
    await measureAsync('await async handler, no context (baseline)', () => asyncHandler(request)),
    await measureAsync('await async handler inside runInContext', () => runInContext(ctx, asyncHandler, request)),
    await measure('HandlerScope.run (sync handler)', () => scope.run(ctx, handler, request, undefined, undefined)),
    await measureAsync('await async handler inside HandlerScope.run', () =>
      scope.run(ctx, asyncHandler, request, undefined, undefined),
    ),
  ];
}
