/**
 * The one error catalog of corpc. Status codes are gRPC's names and numbers, so that users
 * know them already. An `RpcError` carries a wire status, a stable string `code` for programs
 * (the status name), an optional finer `reason` (also stable: `Reason.FrameTooLarge`, `"frame_too_large"`), and a
 * message for people. `cause` and stack traces stay in this process: only status, message and
 * reason cross the wire.
 *
 * This module is a leaf: it imports nothing from corpc.
 */

export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type Status = (typeof Status)[keyof typeof Status];
export type StatusName = keyof typeof Status;

const statusNames: readonly StatusName[] = (() => {
  const names: StatusName[] = [];
  for (const [name, value] of Object.entries(Status)) names[value] = name as StatusName;
  return names;
})();

/** The name of a status number (`14` → `"UNAVAILABLE"`); `"UNKNOWN"` for numbers outside the table. */
export function statusName(status: number): StatusName {
  return statusNames[status] ?? 'UNKNOWN';
}

/** True for a number that is one of the defined status codes. */
export function isStatus(value: unknown): value is Status {
  return typeof value === 'number' && Number.isInteger(value) && statusNames[value] !== undefined;
}

/**
 * Every `reason` corpc itself gives an error: a stable, machine-readable refinement of the status,
 * for programs to match on (`error.reason === Reason.LocalAdmission`). docs/errors.md says for each
 * when it happens, whether a retry can help, and what to do; test/errors-catalog.test.ts keeps the
 * two, and the sources, in step. Errors a handler throws may carry reasons of their own.
 */
export const Reason = {
  // Deadlines and cancellation.
  /** DEADLINE_EXCEEDED: the call's deadline passed while it was in flight or its handler ran. */
  Deadline: 'deadline',
  /** DEADLINE_EXCEEDED: the deadline passed before the handler started; it never ran. */
  Expired: 'expired',
  /** CANCELLED: the caller cancelled the call (its signal), or the request it was made in ended. */
  Cancelled: 'cancelled',
  /** CANCELLED, seen by a handler only: its caller's connection closed, so no one will read the answer. */
  CallerGone: 'caller_gone',

  // Overload: the server's admission control and limits, the client's local shedding.
  /** RESOURCE_EXHAUSTED: the request's priority is below the server's admission level. */
  AdmissionLevel: 'admission_level',
  /** RESOURCE_EXHAUSTED: the request waited in the server's queue longer than the policy allows. */
  QueueDelay: 'queue_delay',
  /** RESOURCE_EXHAUSTED: the server's queue is at `maxQueueLength`. */
  QueueFull: 'queue_full',
  /** RESOURCE_EXHAUSTED: the connection has `maxInFlightPerConnection` calls unanswered. */
  TooManyInFlight: 'too_many_in_flight',
  /** RESOURCE_EXHAUSTED (GOAWAY): the server has `maxConnections` connections already. */
  TooManyConnections: 'too_many_connections',
  /** RESOURCE_EXHAUSTED: shed by the caller from the level the callee reported; nothing was sent. */
  LocalAdmission: 'local_admission',
  /** RESOURCE_EXHAUSTED: too many calls wait for the connection to an endpoint; nothing was sent. */
  ClientBacklog: 'client_backlog',

  // Reaching a server.
  /** UNAVAILABLE: the server is draining and did not start the call; safe to send elsewhere. */
  Draining: 'draining',
  /** UNAVAILABLE: the server closed the connection with a GOAWAY frame (shutdown, idle, limits). */
  Goaway: 'goaway',
  /** UNAVAILABLE: no connection could be made (refused, reset, TLS failure). */
  ConnectionFailed: 'connection_failed',
  /** UNAVAILABLE: the server accepted the connection but sent no preface within `connectTimeoutMs`. */
  ConnectTimeout: 'connect_timeout',
  /** UNAVAILABLE: the server did not answer a keepalive ping in time; the connection was dropped. */
  KeepaliveTimeout: 'keepalive_timeout',
  /** UNAVAILABLE: the connection closed with the call unanswered. */
  ConnectionClosed: 'connection_closed',
  /** UNAVAILABLE: no endpoint of the target can be reached right now (all down or backing off). */
  Unavailable: 'unavailable',
  /** UNAVAILABLE: the target resolved to an empty list of endpoints. */
  NoEndpoints: 'no_endpoints',
  /** UNAVAILABLE: DNS has no record of the asked type for the name. */
  DnsNotFound: 'dns_not_found',
  /** UNAVAILABLE: an SRV record's targets resolve to no address. */
  DnsNoAddress: 'dns_no_address',
  /** UNAVAILABLE: the DNS query failed (timeout, server failure, refused) and nothing stale could be served. */
  DnsFailed: 'dns_failed',
  /** UNAVAILABLE: the client (or channel) was closed before the call. */
  ClientClosed: 'client_closed',
  /** CANCELLED: the client was destroyed with the call in flight. */
  ClientDestroyed: 'client_destroyed',

  // The wire protocol: the connection is closed.
  /** A malformed frame, header, preface or frame kind. */
  ProtocolError: 'protocol_error',
  /** RESOURCE_EXHAUSTED: a frame declared a length over `maxFrameBytes`. */
  FrameTooLarge: 'frame_too_large',
  /** RESOURCE_EXHAUSTED: a request header over `maxHeaderBytes`. */
  HeaderTooLarge: 'header_too_large',
  /** DEADLINE_EXCEEDED (GOAWAY): no corpc preface within `handshakeTimeoutMs`. */
  HandshakeTimeout: 'handshake_timeout',
  /** DEADLINE_EXCEEDED (GOAWAY): a frame was not completed within `frameTimeoutMs`. */
  FrameTimeout: 'frame_timeout',

  // Requests, answers, handlers.
  /** UNIMPLEMENTED: the server has no such method. */
  UnknownMethod: 'unknown_method',
  /** NOT_FOUND: a health check names a service the server does not serve. */
  UnknownService: 'unknown_service',
  /** INVALID_ARGUMENT: the request body is not MessagePack (the server cannot decode it, or the client cannot encode it). */
  BadRequest: 'bad_request',
  /** INVALID_ARGUMENT: the request body does not match the method's message (a generated decoder). */
  InvalidRequest: 'invalid_request',
  /** INTERNAL: the answer does not match the method's message, or is not MessagePack. */
  InvalidResponse: 'invalid_response',
  /** INTERNAL: the handler's result could not be encoded. */
  BadResponse: 'bad_response',
  /** INTERNAL: the handler threw something that is not an RpcError. */
  Unhandled: 'unhandled',

  // Streams (docs/streaming.md).
  /** UNIMPLEMENTED: a stream on a connection to a server that speaks protocol version 1 (no streams); nothing was sent. */
  StreamsUnsupported: 'streams_unsupported',
  /** UNIMPLEMENTED (NOT_FOUND at the HTTP entry): a unary method called as a stream, or a stream as a unary call. */
  WrongMethodKind: 'wrong_method_kind',
  /** RESOURCE_EXHAUSTED: the connection has `maxStreamsPerConnection` streams open. */
  TooManyStreams: 'too_many_streams',
  /** RESOURCE_EXHAUSTED: a stream message is over its receiver's `maxMessageBytes` (the server's or the client's); the stream ends. */
  MessageTooLarge: 'message_too_large',
  /** RESOURCE_EXHAUSTED: the peer sent stream messages past the credit granted to it; the stream ends. */
  WindowExceeded: 'window_exceeded',
  /** UNAVAILABLE: the server's close grace ended with the stream still open. */
  ServerClosing: 'server_closing',
  /** FAILED_PRECONDITION, in this process: `send()` on a stream that has ended or been ended. */
  StreamClosed: 'stream_closed',
  /** INTERNAL: the handler of a streaming method is not an async generator function. */
  BadHandler: 'bad_handler',
  /** INTERNAL, in this process: a client interceptor of a server or bidi stream resolved with something that is not an AsyncIterable. */
  BadInterceptor: 'bad_interceptor',

  // Using corpc: thrown in this process, never sent.
  /** FAILED_PRECONDITION: `context()` was called outside any request. */
  NoContext: 'no_context',
  /** INVALID_ARGUMENT: `addService` was given no handler for one of the service's methods. */
  MissingHandler: 'missing_handler',
  /** ALREADY_EXISTS: `addService` was given a method the server serves already. */
  DuplicateMethod: 'duplicate_method',
  /** FAILED_PRECONDITION: `listen()` on a server that is listening, draining or closed. */
  AlreadyStarted: 'already_started',

  // The HTTP/JSON entry (corpc/runtime).
  /** INVALID_ARGUMENT: the HTTP request body is larger than the entry's limit. */
  BodyTooLarge: 'body_too_large',
  /** INVALID_ARGUMENT: the HTTP request body is not valid JSON. */
  BadJson: 'bad_json',
} as const;

export type Reason = (typeof Reason)[keyof typeof Reason];

export interface RpcErrorOptions {
  /** A stable, machine-readable refinement of the status: one of corpc's `Reason`s, or your own string. */
  reason?: Reason | (string & {}) | undefined;
  /** The underlying error; kept for logs, never sent. */
  cause?: unknown;
}

/**
 * Marks every RpcError, whichever copy of corpc made it. A project can load corpc twice (an ES
 * module and a CommonJS transform of it, or two installed versions): a handler's RpcError from
 * one copy must still be an RpcError to the server of the other, or it would reach the caller as
 * INTERNAL. `Symbol.for` gives both copies the same symbol.
 */
const BRAND = Symbol.for('corpc.RpcError');

export class RpcError extends Error {
  /** `error instanceof RpcError` checks the brand, so it holds across copies of corpc; subclasses keep the prototype check. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class on the right of instanceof, RpcError or a subclass.
    if (this !== RpcError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }

  override readonly name = 'RpcError';
  readonly status: Status;
  readonly reason: Reason | (string & {}) | undefined;

  constructor(status: Status, message: string, options?: RpcErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.reason = options?.reason;
  }

  /** The status name, stable for programs to match on (`"DEADLINE_EXCEEDED"`). */
  get code(): StatusName {
    return statusName(this.status);
  }

  /**
   * Normalizes anything thrown into an RpcError. An RpcError is returned as is; anything else
   * becomes INTERNAL with a generic message (the original is kept as `cause` for logs).
   */
  static from(error: unknown, context?: string): RpcError {
    if (error instanceof RpcError) return error;
    const where = context === undefined ? '' : ` in ${context}`;
    return new RpcError(Status.INTERNAL, `internal error${where}`, { cause: error, reason: Reason.Unhandled });
  }
}
Object.defineProperty(RpcError.prototype, BRAND, { value: true });

/** An error answer that came from a server (not decided by this process). */
export class RemoteRpcError extends RpcError {
  /** The address of the server that answered. */
  readonly peer: string;

  constructor(status: Status, message: string, peer: string, reason: string | undefined) {
    super(status, message, { reason });
    this.peer = peer;
  }
}

/** Thrown for a bad option or config value; names the option and what was wrong. */
export class InvalidArgumentError extends TypeError {
  override readonly name = 'InvalidArgumentError';
  readonly code = 'CORPC_INVALID_ARGUMENT';
}
