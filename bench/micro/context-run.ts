/** The request context: running a handler inside it (AsyncLocalStorage), sync and async, vs a direct call. */
import { RequestContext, currentContext } from 'corpc';
import { now, runInContext } from 'corpc/internal';
import { measure, measureAsync, type MicroResult } from './measure.ts';

export async function main(): Promise<MicroResult[]> {
  const ctx = new RequestContext('Echo/echo', now() + 500, 63, 42, 'trace', '127.0.0.1:1', null);
  const handler = (request: { text: string }): { text: string } => ({ text: request.text });
  const asyncHandler = async (request: { text: string }): Promise<{ text: string }> => {
    currentContext();
    return { text: request.text };
  };
  const request = { text: 'x' };
  return [
    await measure('direct call (baseline)', () => handler(request)),
    await measure('runInContext (sync handler)', () => runInContext(ctx, handler, request)),
    await measureAsync('await async handler, no context (baseline)', () => asyncHandler(request)),
    await measureAsync('await async handler inside runInContext', () => runInContext(ctx, asyncHandler, request)),
  ];
}
