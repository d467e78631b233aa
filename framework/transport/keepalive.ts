import { integerOption } from '../options.ts';
import type { ClientTlsOptions } from './tls.ts';

/**
 * How a client watches its connections. A connection on which nothing has been read for
 * `keepaliveIntervalMs` sends a PING; if nothing (no PONG, no answer) arrives within
 * `keepaliveTimeoutMs`, the server is taken for dead (stopped, partitioned, its host gone):
 * the connection is closed, its calls fail with UNAVAILABLE, and its subchannel backs off so new
 * calls go to the others. A connect that does not finish its handshake within
 * `connectTimeoutMs` counts as a failed connect.
 */
export interface KeepaliveOptions {
  /** Silence after which a connection is pinged. 0 disables pings. Default 15 s. */
  keepaliveIntervalMs?: number;
  /** Time a ping has to be answered. Default 5 s. */
  keepaliveTimeoutMs?: number;
  /** Time a new connection has to receive the server's preface. Default 10 s. */
  connectTimeoutMs?: number;
}

/** What every connection of a channel is opened with. */
export interface ClientConnectionOptions {
  readonly maxFrameBytes: number;
  /** The largest MESSAGE of a stream taken from the server (ChannelOptions.maxMessageBytes). */
  readonly maxMessageBytes: number;
  readonly keepaliveIntervalMs: number;
  readonly keepaliveTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly tls: ClientTlsOptions | undefined;
}

export function keepaliveOptions(options: KeepaliveOptions): Pick<ClientConnectionOptions, keyof KeepaliveOptions> {
  return {
    keepaliveIntervalMs: integerOption('keepaliveIntervalMs', options.keepaliveIntervalMs, 15_000, 0),
    keepaliveTimeoutMs: integerOption('keepaliveTimeoutMs', options.keepaliveTimeoutMs, 5_000, 1),
    connectTimeoutMs: integerOption('connectTimeoutMs', options.connectTimeoutMs, 10_000, 1),
  };
}
