import type { Socket } from 'node:net';
import { debuglog } from 'node:util';
import { Reason, RemoteRpcError, RpcError, Status, isStatus } from '../errors.ts';
import { now, sharedWheel, type TimerEntry } from '../deadline.ts';
import {
  ANSWER_FIXED_BYTES,
  CREDIT_FRAME_BYTES,
  FRAME_BASE_BYTES,
  FrameDecoder,
  FrameKind,
  FrameWriter,
  STREAMS_VERSION,
  unpackAt,
  type FrameSink,
} from '../protocol/index.ts';
import { formatHostPort } from '../resolver/address.ts';
import { messageTooLarge } from '../streams/inbox.ts';
import type { ClientCall } from './client-call.ts';
import { InFlightTable } from './in-flight-table.ts';
import { resumeQueue } from './loop-turn.ts';
import type { ClientConnectionOptions } from './keepalive.ts';
import { openSocket } from './tls.ts';

const debug = debuglog('corpc:client');

export const enum ClientConnectionState {
  Connecting,
  Ready,
  /** The server sent GOAWAY: finish what is in flight, send nothing new. */
  Draining,
  Closed,
}

/** What a connection reports to the subchannel that owns it. */
export interface ConnectionEvents {
  /** The server answered at `time` (when its bytes were read) and told its admission level. */
  onAdmissionLevel(level: number, time: number): void;
  onReady(connection: ClientConnection): void;
  /** The connection is gone; `error` says why when it failed. */
  onClosed(connection: ClientConnection, error: RpcError | null): void;
}

/**
 * The client's side of one connection to one server address. Its connect timeout and keepalive
 * are one entry in the shared timing wheel (see keepalive.ts).
 */
export class ClientConnection implements FrameSink, TimerEntry {
  timerExpiresAt = 0;
  timerSlot = -1;
  timerPrev: TimerEntry | null = null;
  timerNext: TimerEntry | null = null;
  readonly address: string;
  state = ClientConnectionState.Connecting;
  readonly pending = new InFlightTable<ClientCall>();
  readonly writer: FrameWriter;
  private readonly socket: Socket;
  private readonly decoder: FrameDecoder;
  private readonly events: ConnectionEvents;
  private nextId = 1;
  /** Why the connection is going away (a GOAWAY's message or a socket error). */
  private closeReason: RpcError | null = null;
  private closedWaiters: (() => void)[] | null = null;
  private readonly options: ClientConnectionOptions;
  /** When something was last read (`now()`). */
  private lastReadAt: number;
  /** Reads so far, and the one in which an answer last resumed a handler at once (`resumesNow`). */
  private reads = 0;
  private resumedInRead = -1;
  /** When the ping now unanswered was sent; 0 when none is. */
  private pingSentAt = 0;
  private pingNonce = 0;
  /** The server stopped answering (connect or ping timeout): its subchannel should back off. */
  private failed = false;

  constructor(host: string, port: number, options: ClientConnectionOptions, events: ConnectionEvents) {
    this.address = formatHostPort(host, port);
    this.events = events;
    this.options = options;
    this.socket = openSocket(host, port, options.tls);
    this.decoder = new FrameDecoder(this, options.maxFrameBytes);
    this.writer = new FrameWriter(this.socket, null);
    this.lastReadAt = now();
    sharedWheel.add(this, this.lastReadAt + options.connectTimeoutMs);
    this.socket.on('data', (chunk: Buffer) => {
      this.lastReadAt = now();
      this.reads++;
      this.decoder.push(chunk);
    });
    this.socket.on('error', (error) => {
      this.closeReason ??= new RpcError(Status.UNAVAILABLE, `connection to ${this.address} failed: ${error.message}`, {
        reason: Reason.ConnectionFailed,
        cause: error,
      });
    });
    this.socket.on('close', () => this.closed());
    this.writer.preface();
  }

  /** Calls in flight on this connection. */
  get load(): number {
    return this.pending.size;
  }

  /** True while new calls may be sent on it. */
  get usable(): boolean {
    return this.state === ClientConnectionState.Ready || this.state === ClientConnectionState.Connecting;
  }

  /**
   * Sends one attempt of a call (`header` as in frames.ts) and starts watching its deadline.
   * Throws, sending nothing, if the request cannot be encoded.
   */
  send(call: ClientCall, header: unknown[]): void {
    const stream = call.stream;
    if (stream !== null && this.decoder.version < STREAMS_VERSION) {
      throw new RpcError(
        Status.UNIMPLEMENTED,
        `${call.method.path}: ${this.address} speaks corpc protocol version ${this.decoder.version}, which has no streams`,
        {
          reason: Reason.StreamsUnsupported,
        },
      );
    }
    const id = this.allocateId();
    if (stream === null) this.writer.request(id, header, call.request);
    else this.writer.open(id, header, stream.kind === 'server-stream' ? call.request : undefined);
    call.connection = this;
    call.id = id;
    this.pending.add(call);
    sharedWheel.add(call, call.deadline);
    call.parent?.addChild(call);
    // The receive window, granted with OPEN (in the same write).
    stream?.open();
  }

  /** A fresh request id (ids wrap at 2^32 and skip 0). */
  private allocateId(): number {
    const id = this.nextId;
    this.nextId = id === 0xffffffff ? 1 : id + 1;
    return id;
  }

  /** Gives up on a call (deadline, cancellation): its outcome is `error`; the server is told. */
  abandon(call: ClientCall, error: RpcError): void {
    if (this.pending.get(call.id) !== call) return;
    this.settle(call);
    if (this.state !== ClientConnectionState.Closed) this.writer.control(FrameKind.CANCEL, call.id);
    call.reject(error);
    // The last call a drain waited for: no answer will come for it to end the connection.
    if (this.state === ClientConnectionState.Draining && this.pending.size === 0) this.end();
  }

  /** Closes once the calls in flight are answered. */
  drain(): void {
    if (this.state === ClientConnectionState.Closed) return;
    this.state = ClientConnectionState.Draining;
    if (this.pending.size === 0) this.end();
  }

  /** Resolves once the socket is closed. */
  whenClosed(): Promise<void> {
    if (this.state === ClientConnectionState.Closed) return Promise.resolve();
    return new Promise((resolve) => (this.closedWaiters ??= []).push(resolve));
  }

  /** Closes now; calls in flight fail with `error`. */
  destroy(error: RpcError): void {
    this.closeReason ??= error;
    this.socket.destroy();
  }

  /** TimerEntry: the connect timeout, or time to ping, or a ping unanswered. */
  onTimer(): void {
    if (this.state === ClientConnectionState.Closed) return;
    const time = now();
    const { connectTimeoutMs, keepaliveIntervalMs, keepaliveTimeoutMs } = this.options;
    if (this.state === ClientConnectionState.Connecting) {
      return this.fail(
        `no handshake from ${this.address} within ${connectTimeoutMs} ms (connectTimeoutMs)`,
        Reason.ConnectTimeout,
      );
    }
    if (keepaliveIntervalMs === 0) return;
    if (this.pingSentAt !== 0) {
      if (this.lastReadAt < this.pingSentAt) {
        return this.fail(
          `${this.address} did not answer a keepalive ping within ${keepaliveTimeoutMs} ms`,
          Reason.KeepaliveTimeout,
        );
      }
      this.pingSentAt = 0;
    }
    if (time - this.lastReadAt >= keepaliveIntervalMs) {
      this.pingSentAt = time;
      this.pingNonce = (this.pingNonce + 1) >>> 0;
      this.writer.control(FrameKind.PING, this.pingNonce);
      sharedWheel.add(this, time + keepaliveTimeoutMs);
    } else {
      sharedWheel.add(this, this.lastReadAt + keepaliveIntervalMs);
    }
  }

  /** The server is unresponsive: close, fail the calls in flight, and let the subchannel back off. */
  private fail(message: string, reason: Reason): void {
    debug('closing connection to %s: %s', this.address, message);
    this.failed = true;
    this.destroy(new RpcError(Status.UNAVAILABLE, message, { reason }));
  }

  onFrame(kind: number, id: number, buf: Buffer, start: number, end: number): void {
    switch (kind) {
      case FrameKind.RESPONSE:
      case FrameKind.ERROR:
        if (end - start < ANSWER_FIXED_BYTES) {
          return this.onProtocolError(
            new RpcError(Status.INTERNAL, 'protocol error: an answer frame is too short for its admission level', {
              reason: Reason.ProtocolError,
            }),
          );
        }
        return this.answer(kind, id, buf, start, end);
      case FrameKind.MESSAGE:
        if (end - start < ANSWER_FIXED_BYTES) {
          return this.onProtocolError(
            new RpcError(Status.INTERNAL, 'protocol error: a message frame is too short for its admission level', {
              reason: Reason.ProtocolError,
            }),
          );
        }
        return this.message(id, buf, start, end);
      case FrameKind.CREDIT:
        if (end - start < CREDIT_FRAME_BYTES) {
          return this.onProtocolError(
            new RpcError(Status.INTERNAL, 'protocol error: a credit frame is too short for its count', {
              reason: Reason.ProtocolError,
            }),
          );
        }
        this.pending.get(id)?.stream?.grantFromPeer(buf.readUInt32BE(start + FRAME_BASE_BYTES));
        return;
      case FrameKind.PING:
        return this.writer.control(FrameKind.PONG, id);
      case FrameKind.PONG:
        return;
      case FrameKind.GOAWAY:
        return this.goaway(buf, start, end);
      default:
        this.onProtocolError(
          new RpcError(Status.INTERNAL, `protocol error: a server may not send frame kind ${kind}`, {
            reason: Reason.ProtocolError,
          }),
        );
    }
  }

  onProtocolError(error: RpcError): void {
    debug('closing connection to %s: %s', this.address, error.message);
    this.destroy(
      new RpcError(Status.UNAVAILABLE, `connection to ${this.address} closed: ${error.message}`, {
        reason: Reason.ProtocolError,
      }),
    );
  }

  private answer(kind: number, id: number, buf: Buffer, start: number, end: number): void {
    this.events.onAdmissionLevel(buf.readUInt16BE(start + FRAME_BASE_BYTES), this.lastReadAt);
    const call = this.pending.get(id);
    // No call: it was abandoned (deadline, cancel) before the answer came. Nothing to do.
    if (call === undefined) return;
    this.settle(call);
    const bodyStart = start + ANSWER_FIXED_BYTES;
    if (kind === FrameKind.RESPONSE) {
      let result: unknown;
      try {
        result = bodyStart < end ? unpackAt(buf, bodyStart, end) : undefined;
        // Only a client stream's end carries a reply; the others' ends carry nothing to decode.
        const decode =
          call.stream === null || call.stream.kind === 'client-stream' ? call.method.decodeResponse : undefined;
        if (decode !== undefined) result = decode(result);
      } catch (error) {
        call.reject(
          error instanceof RpcError
            ? error
            : new RpcError(Status.INTERNAL, `${call.method.path}: malformed response from ${this.address}`, {
                reason: Reason.InvalidResponse,
                cause: error,
              }),
        );
        return;
      }
      if (this.resumesNow(call)) call.resolve(result);
      else call.resolveLater(result, this.lastReadAt);
    } else {
      call.attemptFailed(this.remoteError(call, buf, bodyStart, end));
    }
    if (this.state === ClientConnectionState.Draining && this.pending.size === 0) this.end();
  }

  /**
   * Whether `call`'s answer is delivered at once. An answer that resumes a handler of this
   * process's server (a unary call made in one) runs that handler's work after its `await`, so
   * one read delivers one such answer at once, when the turn has time and none waits before it;
   * the rest go through the resume queue (loop-turn.ts) and wait for the loop's later turns.
   */
  private resumesNow(call: ClientCall): boolean {
    if (call.stream !== null || call.parent === null || call.parent.loopWaits() === null) return true;
    if (this.resumedInRead === this.reads || !resumeQueue.mayResume(now())) return false;
    this.resumedInRead = this.reads;
    return true;
  }

  /**
   * One message of a stream, checked against maxMessageBytes, decoded and handed to its inbox; a
   * stream that broke the rules is cancelled (the server is told), the connection stays.
   */
  private message(id: number, buf: Buffer, start: number, end: number): void {
    this.events.onAdmissionLevel(buf.readUInt16BE(start + FRAME_BASE_BYTES), this.lastReadAt);
    const call = this.pending.get(id);
    // No call: the stream was abandoned (deadline, cancel, break) while its messages were on their way.
    const stream = call?.stream;
    if (call === undefined || stream === null || stream === undefined) return;
    const bodyStart = start + ANSWER_FIXED_BYTES;
    // Checked before decoding: a hostile server's huge message is never turned into objects.
    if (end - bodyStart > this.options.maxMessageBytes) {
      return call.cancel(
        messageTooLarge(
          call.method.path,
          `a message from ${this.address}`,
          end - bodyStart,
          this.options.maxMessageBytes,
        ),
      );
    }
    let message: unknown;
    try {
      message = unpackAt(buf, bodyStart, end);
      const decode = call.method.decodeResponse;
      if (decode !== undefined) message = decode(message);
    } catch (error) {
      return call.cancel(
        error instanceof RpcError
          ? error
          : new RpcError(Status.INTERNAL, `${call.method.path}: malformed message from ${this.address}`, {
              reason: Reason.InvalidResponse,
              cause: error,
            }),
      );
    }
    if (!stream.receive(message, end - bodyStart)) {
      call.cancel(
        new RpcError(
          Status.RESOURCE_EXHAUSTED,
          `${call.method.path}: ${this.address} sent a message past the credit the client granted`,
          {
            reason: Reason.WindowExceeded,
          },
        ),
      );
    }
  }

  private remoteError(call: ClientCall, buf: Buffer, start: number, end: number): RpcError {
    let fields: unknown;
    try {
      fields = unpackAt(buf, start, end);
    } catch {
      fields = null;
    }
    if (!Array.isArray(fields) || !isStatus(fields[0]) || typeof fields[1] !== 'string') {
      return new RpcError(Status.INTERNAL, `${call.method.path}: malformed error answer from ${this.address}`, {
        reason: Reason.InvalidResponse,
      });
    }
    const reason = typeof fields[2] === 'string' ? fields[2] : undefined;
    return new RemoteRpcError(fields[0], fields[1], this.address, reason);
  }

  private goaway(buf: Buffer, start: number, end: number): void {
    let message = 'the server is going away';
    let status: number = Status.UNAVAILABLE;
    try {
      const fields = unpackAt(buf, start + FRAME_BASE_BYTES, end);
      if (Array.isArray(fields) && typeof fields[1] === 'string') message = fields[1];
      if (Array.isArray(fields) && isStatus(fields[0])) status = fields[0];
    } catch {
      // keep the generic message
    }
    debug('GOAWAY from %s: %s', this.address, message);
    this.closeReason ??= new RpcError(Status.UNAVAILABLE, `${this.address}: ${message}`, { reason: Reason.Goaway });
    this.drain();
    // Refused for lack of room (too many connections): back off before connecting again.
    this.events.onClosed(this, status === Status.RESOURCE_EXHAUSTED ? this.closeReason : null);
  }

  onPreface(): void {
    if (this.state === ClientConnectionState.Connecting) this.state = ClientConnectionState.Ready;
    if (this.options.keepaliveIntervalMs > 0) sharedWheel.add(this, this.lastReadAt + this.options.keepaliveIntervalMs);
    else sharedWheel.remove(this);
    this.events.onReady(this);
  }

  private settle(call: ClientCall): void {
    this.pending.remove(call);
    call.connection = null;
    sharedWheel.remove(call);
    call.parent?.removeChild(call);
  }

  private end(): void {
    this.writer.flush();
    this.socket.end();
  }

  private closed(): void {
    const wasReady = this.state !== ClientConnectionState.Connecting && !this.failed;
    this.state = ClientConnectionState.Closed;
    sharedWheel.remove(this);
    this.decoder.fail();
    this.writer.close();
    const error =
      this.closeReason ??
      new RpcError(Status.UNAVAILABLE, `connection to ${this.address} closed by the server`, {
        reason: Reason.ConnectionClosed,
      });
    const unanswered = this.pending.values();
    for (const call of unanswered) this.settle(call);
    // The subchannel learns first, so a retry below does not pick this connection's slot mid-update.
    this.events.onClosed(this, wasReady ? null : error);
    for (const call of unanswered) {
      call.attemptFailed(
        error.status === Status.UNAVAILABLE
          ? error
          : new RpcError(Status.UNAVAILABLE, `${call.method.path}: ${error.message}`, { reason: error.reason }),
      );
    }
    if (this.closedWaiters !== null) for (const resolve of this.closedWaiters) resolve();
  }
}
