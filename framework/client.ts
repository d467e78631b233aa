import { InvalidArgumentError } from './errors.ts';
import type { MethodDescriptor, RequestInitOf, ResponseOf, ServiceDescriptor } from './service.ts';
import { Channel, type CallOptions, type ChannelOptions } from './transport/channel.ts';

/** A typed client: one async function per method of the service (sends a `RequestInitOf`, resolves with a whole `ResponseOf`), plus its lifecycle. */
export type ServiceClient<S extends ServiceDescriptor> = {
  readonly [K in keyof S['methods']]: (
    request: RequestInitOf<S['methods'][K]>,
    options?: CallOptions,
  ) => Promise<ResponseOf<S['methods'][K]>>;
} & ClientLifecycle;

export interface ClientLifecycle {
  /** The channel the calls go through. */
  readonly channel: Channel;
  /** Stops taking calls, lets those in flight finish, closes the connections. */
  close(): Promise<void>;
  /** Closes at once; calls in flight fail with CANCELLED. */
  destroy(): void;
}

const reserved = new Set(['channel', 'close', 'destroy']);

/** Opens a channel to a target (`host:port`, `tcp://host:port`) for untyped calls or for several clients. */
export function createChannel(target: string, options?: ChannelOptions): Channel {
  return new Channel(target, options);
}

/**
 * A typed client for a service: `createClient(Echo, '127.0.0.1:7001').echo({ text })`.
 * Pass a Channel instead of a target to share its connections between clients.
 */
export function createClient<S extends ServiceDescriptor>(
  service: S,
  target: string | Channel,
  options?: ChannelOptions,
): ServiceClient<S> {
  const channel = typeof target === 'string' ? new Channel(target, options) : target;
  const client: Record<string, unknown> = {
    channel,
    close: () => channel.close(),
    destroy: () => channel.destroy(),
  };
  for (const [name, descriptor] of Object.entries(service.methods)) {
    if (reserved.has(name)) {
      throw new InvalidArgumentError(
        `createClient(${service.name}): method "${name}" clashes with the client's own "${name}"; call it with channel.call(${service.name}.methods.${name}, request)`,
      );
    }
    client[name] = bindMethod(channel, descriptor);
  }
  return Object.freeze(client) as ServiceClient<S>;
}

function bindMethod(channel: Channel, descriptor: MethodDescriptor) {
  return (request: unknown, options?: CallOptions): Promise<unknown> => channel.call(descriptor, request, options);
}
