import { InvalidArgumentError } from './errors.ts';
import type { KindOf, RequestInitOf, ResponseOf, ServiceDescriptor } from './service.ts';
import type { BidiStream, ResponseStream } from './streams/types.ts';
import { streamingMethod } from './client-streams.ts';
import { interceptClient, interceptorsOption, type ClientInterceptor } from './interceptors.ts';
import { Channel, type CallOptions, type ChannelOptions } from './transport/channel.ts';

/**
 * The client side of one method: an async function for a unary call; for a server stream, an
 * async iterable of the responses; for a client stream, an async function of an iterable of
 * requests; for a bidirectional stream, a `BidiStream` to send on and read from.
 */
export type ClientMethod<M> = {
  unary: (request: RequestInitOf<M>, options?: CallOptions) => Promise<ResponseOf<M>>;
  'server-stream': (request: RequestInitOf<M>, options?: CallOptions) => ResponseStream<ResponseOf<M>>;
  'client-stream': (
    requests: AsyncIterable<RequestInitOf<M>> | Iterable<RequestInitOf<M>>,
    options?: CallOptions,
  ) => Promise<ResponseOf<M>>;
  'bidi-stream': (options?: CallOptions) => BidiStream<RequestInitOf<M>, ResponseOf<M>>;
}[KindOf<M>];

/** A typed client: one function per method of the service (sends a `RequestInitOf`, receives whole `ResponseOf`s), plus its lifecycle. */
export type ServiceClient<S extends ServiceDescriptor> = {
  readonly [K in keyof S['methods']]: ClientMethod<S['methods'][K]>;
} & ClientLifecycle;

export interface ClientLifecycle {
  /** The channel the calls go through. */
  readonly channel: Channel;
  /** Stops taking calls, lets those in flight finish, closes the connections. */
  close(): Promise<void>;
  /** Closes at once; calls in flight fail with CANCELLED. */
  destroy(): void;
}

/** The names a typed client uses for its own lifecycle, so no method may take them (codegen refuses such rpcs too). */
export const CLIENT_RESERVED_NAMES: ReadonlySet<string> = new Set<keyof ClientLifecycle>([
  'channel',
  'close',
  'destroy',
]);

/** Opens a channel to a target (`host:port`, `tcp://host:port`) for untyped calls or for several clients. */
export function createChannel(target: string, options?: ChannelOptions): Channel {
  return new Channel(target, options);
}

/**
 * A typed client for a service: `createClient(Echo, '127.0.0.1:7001').echo({ text })`.
 * Pass a Channel instead of a target to share its connections between clients; such a client
 * may still have interceptors of its own (`{ interceptors }`, its only option then; they run
 * before the channel's).
 */
export function createClient<S extends ServiceDescriptor>(
  service: S,
  target: string | Channel,
  options?: ChannelOptions,
): ServiceClient<S> {
  // Over its own channel, a client's options (interceptors too) are the channel's.
  const channel = typeof target === 'string' ? new Channel(target, options) : target;
  // The client's own, run before the channel's.
  const interceptors = typeof target === 'string' ? [] : sharedChannelInterceptors(service, options);
  const client: Record<string, unknown> = {
    channel,
    close: () => channel.close(),
    destroy: () => channel.destroy(),
  };
  const intercepted =
    interceptors.length === 0
      ? null
      : interceptClient(interceptors, channel.target, (method, request, callOptions) =>
          channel.call(method, request, callOptions),
        );
  for (const [name, descriptor] of Object.entries(service.methods)) {
    if (CLIENT_RESERVED_NAMES.has(name)) {
      throw new InvalidArgumentError(
        `createClient(${service.name}): method "${name}" clashes with the client's own "${name}"; call it with channel.call(${service.name}.methods.${name}, request)`,
      );
    }
    if ((descriptor.kind ?? 'unary') !== 'unary') client[name] = streamingMethod(channel, descriptor, interceptors);
    else if (intercepted === null)
      client[name] = (request: unknown, callOptions?: CallOptions): Promise<unknown> =>
        channel.call(descriptor, request, callOptions);
    else
      client[name] = (request: unknown, callOptions?: CallOptions): Promise<unknown> =>
        intercepted(descriptor, request, callOptions);
  }
  return Object.freeze(client) as ServiceClient<S>;
}

/** A shared channel keeps its own options: a client over it may only add interceptors. */
function sharedChannelInterceptors(
  service: ServiceDescriptor,
  options: ChannelOptions | undefined,
): readonly ClientInterceptor[] {
  for (const key of Object.keys(options ?? {})) {
    if (key !== 'interceptors') {
      throw new InvalidArgumentError(
        `createClient(${service.name}): "${key}" is an option of the channel, set when it was created; a client over a shared Channel takes only interceptors`,
      );
    }
  }
  return interceptorsOption<ClientInterceptor>('interceptors', options?.interceptors);
}
