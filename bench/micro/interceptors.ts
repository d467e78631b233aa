/**
 * Interceptors: what one no-op interceptor adds to a call, client side (its chain around the
 * channel's send) and server side (its chain around the handler, inside the request context).
 * Without interceptors neither chain exists: the baselines are the paths calls take then.
 */
import { RequestContext, defineService, method, type ClientInterceptor, type ServerInterceptor } from 'corpc';
import { interceptClient, interceptServer, now, runInContext } from 'corpc/internal';
import { measureAsync, type MicroResult } from './measure.ts';

const Echo = defineService('Echo', { echo: method<{ text: string }, { text: string }>() });
const descriptor = Echo.methods.echo;

export async function main(): Promise<MicroResult[]> {
  const request = { text: 'x' };
  const ctx = new RequestContext('Echo/echo', now() + 60_000, 63, 42, 'trace', '127.0.0.1:1', null);
  const handler = async (body: unknown): Promise<unknown> => body;
  const passServer: ServerInterceptor = (_call, next) => next();
  const serverChain = interceptServer([passServer], Echo, descriptor, handler);
  // What the channel's send costs is left out: a resolved promise stands for the answer.
  const send = (_method: unknown, body: unknown): Promise<unknown> => Promise.resolve(body);
  const passClient: ClientInterceptor = (_call, next) => next();
  const clientChain = interceptClient([passClient], '127.0.0.1:7000', send);
  return [
    await measureAsync(
      'server: handler in context (no interceptor)',
      () => runInContext(ctx, handler, request) as Promise<unknown>,
    ),
    await measureAsync(
      'server: handler in context, 1 no-op interceptor',
      () => runInContext(ctx, serverChain, request, ctx) as Promise<unknown>,
    ),
    await measureAsync('client: send (no interceptor)', () => send(descriptor, request)),
    await measureAsync('client: send, 1 no-op interceptor', () => clientChain(descriptor, request)),
  ];
}
