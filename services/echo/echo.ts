/**
 * The Echo service. Its API is defined in echo.proto; services/generated/echo.ts (from
 * `npm run gen`) holds the descriptor, the message types and the validating decoders.
 */
import { context, type ServiceClient, type ServiceHandlers } from 'corpc';
import { Echo, type ContextView } from '../generated/echo.ts';

export { Echo };
export type { ContextView, EchoReply, EchoRequest, RelayReply } from '../generated/echo.ts';

function view(): ContextView {
  const ctx = context();
  return {
    remainingMs: Math.round(ctx.remainingMs()),
    businessPriority: ctx.businessPriority,
    userPriority: ctx.userPriority,
    traceId: ctx.traceId,
    metadata: { ...ctx.metadata },
  };
}

/** The Echo handlers; `next` is the Echo server that `relay` calls (none: relay fails clearly). */
export function echoHandlers(next?: ServiceClient<typeof Echo>): ServiceHandlers<typeof Echo> {
  return {
    async echo(request) {
      return { text: request.text };
    },
    async inspect() {
      return view();
    },
    async relay(request) {
      if (next === undefined) throw new Error('relay: this Echo server has no downstream Echo configured');
      const outer = view();
      const [reply, inner] = await Promise.all([next.echo({ text: request.text }), next.inspect({})]);
      return { text: reply.text, outer, inner };
    },
  };
}
