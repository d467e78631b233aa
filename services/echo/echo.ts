import { context, defineService, method, type ServiceClient, type ServiceHandlers } from 'corpc';

export interface EchoRequest {
  text: string;
}

export interface EchoReply {
  text: string;
}

/** What a server saw of the request context it was called in. */
export interface ContextView {
  remainingMs: number;
  businessPriority: number;
  userPriority: number;
  traceId: string;
  metadata: Record<string, string>;
}

export interface RelayReply {
  text: string;
  /** The context as the relaying server saw it… */
  outer: ContextView;
  /** …and as the server it called saw it: same priorities and trace, a smaller budget. */
  inner: ContextView;
}

export const Echo = defineService('Echo', {
  /** Returns its input. */
  echo: method<EchoRequest, EchoReply>(),
  /** Describes the request context the handler runs in. */
  inspect: method<Record<string, never>, ContextView>(),
  /** Calls `echo` and `inspect` on the next Echo server, to show what a downstream call inherits. */
  relay: method<EchoRequest, RelayReply>(),
});

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
