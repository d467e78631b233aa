import { InvalidArgumentError, RpcError } from './errors.ts';
import { currentContext, type Metadata, type RequestContext } from './context.ts';
import type { MethodDescriptor, MethodKind, ServiceDescriptor } from './service.ts';
import type { CallOptions } from './transport/channel.ts';

/**
 * Interceptors: plain async functions around a call, `(call, next) => …`. `next()` runs the rest
 * of the chain and then the call itself (on a client: the request sent and answered; on a
 * server: the handler), and resolves with its result or rejects with its RpcError. An
 * interceptor may change the call before `next()` (add metadata, shorten the deadline), not call
 * it at all (throw an RpcError: the call's outcome), call it again (retry), or look at what it
 * gave (time, log).
 *
 * Streams go through the same chains. Where a method takes a stream of requests (client and
 * bidirectional streams), `call.request` is that stream, an AsyncIterable; where it answers with
 * a stream (server and bidirectional streams), `next()` resolves, once the stream is open, with
 * the AsyncIterable of its responses. An interceptor sees each message and the end by wrapping
 * either in an async generator of its own (docs/interceptors.md).
 *
 * The chains of unary calls and of servers are built once, when a channel, a client or a service
 * is set up: with no interceptors, nothing here is on the call path at all.
 */

/** One call as a client interceptor sees it. What it changes before `next()` is what is sent (its fields are those of `CallOptions`). */
export interface OutgoingCall extends CallOptions {
  readonly method: MethodDescriptor;
  /** The method's kind (`method.kind`, with `'unary'` where a descriptor names none). */
  readonly kind: MethodKind;
  /** The target of the channel the call goes through (`"127.0.0.1:7001"`, `"dns:///accounts:7001"`). */
  readonly target: string;
  /** The request context the call is made in (its deadline, priorities and trace id are inherited), or undefined outside any request. */
  readonly context: RequestContext | undefined;
  /** The request; of a client or bidirectional stream, the AsyncIterable of the requests sent (wrap it to see each one). */
  request: unknown;
  /** The metadata sent: a copy of the call's own (or else the inherited) metadata, for interceptors to add to. */
  readonly metadata: Record<string, string>;
  timeoutMs: number | undefined;
  businessPriority: number | undefined;
  userPriority: number | undefined;
  /** Unset: inherited from the request, or a new one. A tracing interceptor sets its trace's. */
  traceId: string | undefined;
  signal: AbortSignal | undefined;
}

/** One request as a server interceptor sees it, inside its request context (`context()` is `call.context`). */
export interface IncomingCall {
  readonly service: ServiceDescriptor;
  readonly method: MethodDescriptor;
  /** The method's kind (`method.kind`, with `'unary'` where a descriptor names none). */
  readonly kind: MethodKind;
  /** The request context: deadline, priorities, trace id, caller, metadata, signal. */
  readonly context: RequestContext;
  /** The request's metadata (`context.metadata`). */
  readonly metadata: Metadata;
  /**
   * What the handler gets: the decoded, validated request; of a client or bidirectional stream,
   * the AsyncIterable of the client's requests (wrap it to see each one).
   */
  request: unknown;
}

/**
 * `next()` resolves with the response; of a server or bidirectional stream, with the
 * AsyncIterable of the responses, once the stream is open (return it, or a wrapper of it).
 */
export type ClientInterceptor = (call: OutgoingCall, next: () => Promise<unknown>) => Promise<unknown>;
/**
 * `next()` resolves with what the handler answered; of a server or bidirectional stream, with the
 * AsyncIterable the handler returned (its generator, not yet started: return it, or a wrapper of it).
 */
export type ServerInterceptor = (call: IncomingCall, next: () => Promise<unknown>) => Promise<unknown>;

/** How a channel sends one call; what the client chain ends in. */
export type SendCall = (method: MethodDescriptor, request: unknown, options: CallOptions) => Promise<unknown>;
/** A registered handler as the server calls it. */
export type Handler = (request: unknown, context: RequestContext) => unknown;

/** Checks an `interceptors` option once, at construction: an array of functions (a copy is kept). */
export function interceptorsOption<I extends ClientInterceptor | ServerInterceptor>(
  name: string,
  value: unknown,
): readonly I[] {
  if (value === undefined) return [];
  if (!Array.isArray(value))
    throw new InvalidArgumentError(`${name} must be an array of functions (call, next) => …, got ${typeof value}`);
  value.forEach((interceptor, index) => {
    if (typeof interceptor !== 'function') {
      throw new InvalidArgumentError(
        `${name}[${index}] must be a function (call, next) => …, got ${typeof interceptor}`,
      );
    }
  });
  return Object.freeze([...value] as I[]);
}

/** Builds the chain `interceptors[0] → … → last → end`. */
export function chain<C>(
  interceptors: readonly ((call: C, next: () => Promise<unknown>) => Promise<unknown>)[],
  end: (call: C) => Promise<unknown>,
) {
  let run = end;
  for (let i = interceptors.length - 1; i >= 0; i--) {
    const interceptor = interceptors[i]!;
    const inner = run;
    run = (call) => interceptor(call, () => inner(call));
  }
  return run;
}

/**
 * The calls of a channel or client through its interceptors (called only when there are some).
 * Whatever an interceptor throws is the call's outcome, as an RpcError (anything else becomes
 * INTERNAL, the original kept as its cause).
 */
export function interceptClient(
  interceptors: readonly ClientInterceptor[],
  target: string,
  send: SendCall,
): (method: MethodDescriptor, request: unknown, options?: CallOptions) => Promise<unknown> {
  const run = chain<OutgoingCall>(interceptors, (call) => send(call.method, call.request, call));
  return async (method, request, options) => {
    try {
      return await run(outgoingCall(method, target, request, options));
    } catch (error) {
      throw RpcError.from(error, method.path);
    }
  };
}

/** A call as client interceptors see it, made in the current request context (if any). */
export function outgoingCall(
  method: MethodDescriptor,
  target: string,
  request: unknown,
  options: CallOptions | undefined,
): OutgoingCall {
  const context = currentContext();
  // One literal, its fields always in this order: one object shape for every call.
  return {
    method,
    kind: method.kind ?? 'unary',
    target,
    context,
    request,
    metadata: { ...(options?.metadata ?? context?.metadata) },
    timeoutMs: options?.timeoutMs,
    businessPriority: options?.businessPriority,
    userPriority: options?.userPriority,
    traceId: options?.traceId,
    signal: options?.signal,
  };
}

/**
 * A handler behind the server's and its service's interceptors (called only when there are
 * some), for a method of any kind. It runs where the handler would: in the request context, so
 * `context()` works in every interceptor; what one throws is handled as the handler's error would
 * be. Of a server or bidirectional stream, it resolves with the AsyncIterable the server pumps.
 */
export function interceptServer(
  interceptors: readonly ServerInterceptor[],
  service: ServiceDescriptor,
  method: MethodDescriptor,
  handler: Handler,
): Handler {
  // Not an async function: the handler's own promise is passed on, not wrapped in another.
  const run = chain<IncomingCall>(interceptors, (call) => {
    try {
      return Promise.resolve(handler(call.request, call.context));
    } catch (error) {
      return Promise.reject(error);
    }
  });
  const kind = method.kind ?? 'unary';
  return (request, context) => run({ service, method, kind, context, metadata: context.metadata, request });
}
