import { integerOption } from '../options.ts';
import { DEFAULT_MAX_FRAME_BYTES } from '../protocol/index.ts';

/**
 * The per-connection limits of a server, beyond frame size and calls in flight: what a peer
 * that is slow, silent or hostile may cost before it is cut off. Every one has a safe default
 * and is checked by name at construction.
 */
export interface ConnectionLimitOptions {
  /** Largest request header (method, deadline, priorities, trace id, metadata), in bytes. Default 16 KiB. */
  maxHeaderBytes?: number;
  /** Connections one server (worker) keeps open; more are refused with a GOAWAY. Default 10000. */
  maxConnections?: number;
  /** Time a new connection has to send the corpc preface. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** A connection with no calls in flight and nothing read for this long is closed (GOAWAY). 0 disables. Default 5 min. */
  idleTimeoutMs?: number;
  /** Time a peer has to finish a frame it has started (slowloris). Default 30 s. */
  frameTimeoutMs?: number;
  /** Time a peer may leave its answers unread (reads paused) before it is disconnected. Default 30 s. */
  slowReaderTimeoutMs?: number;
}

export interface ConnectionLimits {
  readonly maxHeaderBytes: number;
  readonly maxConnections: number;
  readonly handshakeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly frameTimeoutMs: number;
  readonly slowReaderTimeoutMs: number;
}

/** The u16 header length field caps a header at 64 KiB anyway. */
const HEADER_FIELD_MAX = 0xffff;

export function connectionLimits(options: ConnectionLimitOptions): ConnectionLimits {
  return {
    maxHeaderBytes: integerOption('maxHeaderBytes', options.maxHeaderBytes, 16 * 1024, 64, HEADER_FIELD_MAX),
    maxConnections: integerOption('maxConnections', options.maxConnections, 10_000, 1),
    handshakeTimeoutMs: integerOption('handshakeTimeoutMs', options.handshakeTimeoutMs, 10_000, 1),
    idleTimeoutMs: integerOption('idleTimeoutMs', options.idleTimeoutMs, 300_000, 0),
    frameTimeoutMs: integerOption('frameTimeoutMs', options.frameTimeoutMs, 30_000, 1),
    slowReaderTimeoutMs: integerOption('slowReaderTimeoutMs', options.slowReaderTimeoutMs, 30_000, 1),
  };
}

/** Options both ends of a connection take, with the same defaults on a client and a server. */
export interface PeerLimitOptions {
  /** Largest frame accepted, in bytes. Default 4 MiB. */
  maxFrameBytes?: number;
  /** Calls one connection may have unanswered. Default 4096. */
  maxInFlightPerConnection?: number;
  /** Bytes a connection may have waiting to be sent. Default 8 MiB. */
  maxBufferedBytesPerConnection?: number;
}

export interface PeerLimits {
  readonly maxFrameBytes: number;
  readonly maxInFlightPerConnection: number;
  readonly maxBufferedBytes: number;
}

export function peerLimits(options: PeerLimitOptions): PeerLimits {
  return {
    maxFrameBytes: integerOption('maxFrameBytes', options.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES, 1024),
    maxInFlightPerConnection: integerOption('maxInFlightPerConnection', options.maxInFlightPerConnection, 4096, 1),
    maxBufferedBytes: integerOption(
      'maxBufferedBytesPerConnection',
      options.maxBufferedBytesPerConnection,
      8 * 1024 * 1024,
      1024,
    ),
  };
}
