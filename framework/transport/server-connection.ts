import type { Socket } from 'node:net';
import { debuglog } from 'node:util';
import { Reason, RpcError, Status } from '../errors.ts';
import { HandlerScope } from '../context.ts';
import { WHEEL_TICK_MS, now, sharedWheel, type TimerEntry } from '../deadline.ts';
import {
  ANSWER_FIXED_BYTES,
  CREDIT_FRAME_BYTES,
  FRAME_BASE_BYTES,
  FrameDecoder,
  FrameKind,
  FrameWriter,
  REQUEST_FIXED_BYTES,
  type FrameSink,
} from '../protocol/index.ts';
import type { ConnectionLimits } from './connection-limits.ts';
import type { ServerCall } from './server-call.ts';
import { InFlightTable } from './in-flight-table.ts';
import { nextTurn, turnBudgetSpent } from './loop-turn.ts';

const debug = debuglog('corpc:server');

/** What a connection needs from its server. */
export interface ConnectionOwner {
  readonly maxFrameBytes: number;
  readonly maxBufferedBytes: number;
  /** The level sent with every answer. */
  readonly admissionLevel: number;
  readonly limits: ConnectionLimits;
  /** A REQUEST, or an OPEN (`opensStream`), whose header length was checked. */
  dispatch(
    connection: ServerConnection,
    id: number,
    buf: Buffer,
    start: number,
    end: number,
    opensStream: boolean,
  ): void;
  /** A MESSAGE on one of this connection's streams. */
  streamMessage(call: ServerCall, buf: Buffer, start: number, end: number): void;
  connectionClosed(connection: ServerConnection): void;
}

export const enum ConnectionState {
  Open,
  /** A GOAWAY was sent: answer what is in flight, accept nothing new, then close. */
  Draining,
  Closed,
}

/** After an idle GOAWAY, requests the client sent before reading it are still answered for this long. */
const IDLE_GOAWAY_LINGER_MS = 1000;

/**
 * The server's side of one client connection.
 *
 * Its timers (handshake, frame completion, idle, slow reader) are one entry in the shared timing
 * wheel, not a timer each: reads only note the time, and when the entry fires it works out which
 * limit, if any, has run out, then schedules itself for the next one.
 */
export class ServerConnection implements FrameSink, TimerEntry {
  timerExpiresAt = 0;
  timerSlot = -1;
  timerPrev: TimerEntry | null = null;
  timerNext: TimerEntry | null = null;

  readonly socket: Socket;
  readonly writer: FrameWriter;
  readonly peer: string;
  /** Requests read on this connection and not yet answered, by id (for CANCEL). */
  readonly calls = new InFlightTable<ServerCall>();
  /** Where its handlers run, each in its request's context (one async frame per call on Node 24). */
  readonly handlerScope = new HandlerScope();
  state = ConnectionState.Open;
  /** Draining, and the time given to requests already on their way is over. */
  private lingerOver = false;
  /** Set once the connection's end has been handled (closed()): by destroy(), or at the socket's 'close'. */
  private ended = false;
  private readonly decoder: FrameDecoder;
  private readonly owner: ConnectionOwner;
  private lastRequestId = 0;
  /** Streams open on this connection (counted against maxStreamsPerConnection). */
  streams = 0;
  /** Stream producers waiting for the socket to drain. */
  private writableWaiters: (() => void)[] = [];
  /** Reads stopped because the peer does not read its answers. */
  paused = false;
  private readonly limits: ConnectionLimits;
  private readonly openedAt: number;
  private prefaceSeen = false;
  /** When the chunk being decoded was read (`now()`): the arrival time of its frames. */
  readAt = 0;
  /** When a request last arrived or was answered (`now()`); pings do not count. */
  private lastActiveAt: number;
  /** When the frame now being read started arriving; 0 between frames. */
  private frameStartedAt = 0;
  private framesRead = 0;
  private pausedAt = 0;

  constructor(socket: Socket, owner: ConnectionOwner) {
    this.socket = socket;
    this.owner = owner;
    this.peer = `${socket.remoteAddress}:${socket.remotePort}`;
    this.limits = owner.limits;
    this.openedAt = this.lastActiveAt = now();
    this.decoder = new FrameDecoder(this, owner.maxFrameBytes);
    this.writer = new FrameWriter(socket, this);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('error', (error) => debug('connection %s: %s', this.peer, error.message));
    socket.on('close', () => this.closed());
    this.writer.preface();
    sharedWheel.add(this, this.openedAt + this.limits.handshakeTimeoutMs);
  }

  private read(chunk: Buffer): void {
    const time = (this.readAt = now());
    const framesBefore = this.framesRead;
    this.decoder.push(chunk);
    if (!this.decoder.midFrame) this.frameStartedAt = 0;
    else if (this.frameStartedAt === 0 || this.framesRead !== framesBefore) this.frameStartedAt = time;
  }

  /** Refuses a connection over the server's limit: preface, GOAWAY with the reason, close. */
  refuse(message: string): void {
    this.protocolError(new RpcError(Status.RESOURCE_EXHAUSTED, message, { reason: Reason.TooManyConnections }));
  }

  /** TimerEntry: a limit may have run out. */
  onTimer(): void {
    if (this.state === ConnectionState.Closed) return;
    const time = now();
    const limits = this.limits;
    if (!this.prefaceSeen) {
      const due = this.openedAt + limits.handshakeTimeoutMs;
      if (time >= due) {
        return this.timedOut(
          `no corpc preface within ${limits.handshakeTimeoutMs} ms (handshakeTimeoutMs)`,
          Reason.HandshakeTimeout,
        );
      }
      return sharedWheel.add(this, due);
    }
    if (this.paused && time >= this.pausedAt + limits.slowReaderTimeoutMs) {
      debug(
        'closing connection %s: answers unread for %d ms (slowReaderTimeoutMs)',
        this.peer,
        limits.slowReaderTimeoutMs,
      );
      this.state = ConnectionState.Closed;
      this.socket.destroy();
      return;
    }
    if (this.frameStartedAt !== 0 && time >= this.frameStartedAt + limits.frameTimeoutMs) {
      return this.timedOut(
        `a frame was not completed within ${limits.frameTimeoutMs} ms (frameTimeoutMs)`,
        Reason.FrameTimeout,
      );
    }
    const idle = limits.idleTimeoutMs > 0 && this.calls.size === 0 && this.state === ConnectionState.Open;
    if (idle && time >= this.lastActiveAt + limits.idleTimeoutMs) {
      return this.goaway(
        `the connection was idle for ${limits.idleTimeoutMs} ms (idleTimeoutMs)`,
        IDLE_GOAWAY_LINGER_MS,
      );
    }
    let next = time + limits.frameTimeoutMs;
    if (this.frameStartedAt !== 0) next = Math.min(next, this.frameStartedAt + limits.frameTimeoutMs);
    if (this.paused) next = Math.min(next, this.pausedAt + limits.slowReaderTimeoutMs);
    if (idle) next = Math.min(next, this.lastActiveAt + limits.idleTimeoutMs);
    sharedWheel.add(this, next);
  }

  private timedOut(message: string, reason: Reason): void {
    this.protocolError(new RpcError(Status.DEADLINE_EXCEEDED, `protocol error: ${message}`, { reason }));
    // A peer that dribbles bytes may not close its side either: do not wait for it.
    this.socket.destroySoon();
  }

  onFrame(kind: number, id: number, buf: Buffer, start: number, end: number): void {
    this.framesRead++;
    switch (kind) {
      case FrameKind.REQUEST:
      case FrameKind.OPEN: {
        this.lastRequestId = id;
        this.lastActiveAt = this.readAt;
        if (end - start < REQUEST_FIXED_BYTES) {
          return this.protocolError(
            new RpcError(Status.INTERNAL, 'protocol error: a request frame is too short for its header length', {
              reason: Reason.ProtocolError,
            }),
          );
        }
        const headerBytes = buf.readUInt16BE(start + FRAME_BASE_BYTES);
        if (headerBytes > this.limits.maxHeaderBytes) {
          return this.protocolError(
            new RpcError(
              Status.RESOURCE_EXHAUSTED,
              `protocol error: request header of ${headerBytes} bytes exceeds the limit of ${this.limits.maxHeaderBytes} bytes (maxHeaderBytes)`,
              { reason: Reason.HeaderTooLarge },
            ),
          );
        }
        this.owner.dispatch(this, id, buf, start, end, kind === FrameKind.OPEN);
        return;
      }
      case FrameKind.MESSAGE: {
        this.lastActiveAt = this.readAt;
        if (end - start < ANSWER_FIXED_BYTES) {
          return this.protocolError(
            new RpcError(Status.INTERNAL, 'protocol error: a message frame is too short for its admission level', {
              reason: Reason.ProtocolError,
            }),
          );
        }
        // A stream that has ended meanwhile: the message was on its way, drop it.
        const call = this.calls.get(id);
        if (call !== undefined) this.owner.streamMessage(call, buf, start, end);
        return;
      }
      case FrameKind.CREDIT:
        if (end - start < CREDIT_FRAME_BYTES) {
          return this.protocolError(
            new RpcError(Status.INTERNAL, 'protocol error: a credit frame is too short for its count', {
              reason: Reason.ProtocolError,
            }),
          );
        }
        this.calls.get(id)?.stream?.grantFromPeer(buf.readUInt32BE(start + FRAME_BASE_BYTES));
        return;
      case FrameKind.END:
        this.calls.get(id)?.stream?.endOfRequests();
        return;
      case FrameKind.CANCEL: {
        const call = this.calls.get(id);
        if (call !== undefined) call.cancel(callerCancellation(call, now()));
        return;
      }
      case FrameKind.PING:
        this.writer.control(FrameKind.PONG, id);
        return;
      case FrameKind.GOAWAY:
        // The client is leaving; its calls in flight still get their answers.
        return;
      default:
        this.protocolError(
          new RpcError(Status.INTERNAL, `protocol error: a client may not send frame kind ${kind}`, {
            reason: Reason.ProtocolError,
          }),
        );
    }
  }

  onPreface(): void {
    this.prefaceSeen = true;
    this.framesRead++;
    this.onTimer();
  }

  /** Makes sure the timer fires by `due`. */
  private armBy(due: number): void {
    if (this.timerSlot === -1 || due < this.timerExpiresAt) sharedWheel.add(this, due);
  }

  onProtocolError(error: RpcError): void {
    this.protocolError(error);
  }

  /** Tells the peer why, then closes this connection only; calls still running are cancelled. */
  protocolError(error: RpcError): void {
    if (this.state === ConnectionState.Closed) return;
    debug('closing connection %s: %s', this.peer, error.message);
    this.decoder.fail();
    this.writer.goaway(this.lastRequestId, error.status, error.message);
    this.writer.flush();
    this.state = ConnectionState.Closed;
    this.socket.end();
    this.cancelCalls(
      new RpcError(Status.CANCELLED, `connection closed: ${error.message}`, { reason: Reason.CallerGone }),
    );
  }

  /** Writes an error answer for request `id`. */
  answerError(id: number, status: Status, message: string, reason?: RpcError['reason']): void {
    if (this.state !== ConnectionState.Closed)
      this.writer.error(id, this.owner.admissionLevel, status, message, reason);
  }

  /** One MESSAGE of stream `id`, with the current admission level; returns its bytes. Throws, writing nothing, if it cannot be encoded. */
  writeMessage(id: number, value: unknown): number {
    return this.state === ConnectionState.Closed ? 0 : this.writer.message(id, this.owner.admissionLevel, value);
  }

  writeCredit(id: number, count: number): void {
    if (this.state !== ConnectionState.Closed) this.writer.credit(id, count);
  }

  /**
   * null while answers waiting for the peer stay under maxBufferedBytesPerConnection and the
   * loop's turn is within its budget; else a promise where a stream's producer waits: until the
   * socket has drained (or closed), or until the next turn.
   */
  whenWritable(): Promise<void> | null {
    if (this.state === ConnectionState.Closed) return null;
    if (this.writer.bufferedBytes <= this.owner.maxBufferedBytes) {
      // A producer with credit left, on a socket that takes every write, never waits for either:
      // it gives the loop back when the turn has run its budget, so reads (other streams' OPEN
      // and CREDIT, unary calls) and timers (deadlines) are not held up behind it.
      return turnBudgetSpent() ? nextTurn() : null;
    }
    // Not blocked: the excess is frames the writer has yet to hand to the socket, at this turn's
    // flush (a setImmediate scheduled before this one). A socket that takes them all emits no
    // 'drain', so waiting for one could wait forever: the producer goes on after the flush.
    if (!this.writer.isBlocked) return nextTurn();
    return new Promise((resolve) => this.writableWaiters.push(resolve));
  }

  private wakeWriters(): void {
    const waiters = this.writableWaiters;
    if (waiters.length === 0) return;
    this.writableWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Starts draining: tells the client to send new calls elsewhere. */
  goaway(message: string, lingerMs: number): void {
    if (this.state !== ConnectionState.Open) return;
    this.state = ConnectionState.Draining;
    this.writer.goaway(this.lastRequestId, Status.UNAVAILABLE, message);
    // Requests the client sent before it read the GOAWAY still arrive: they are answered
    // UNAVAILABLE ('draining') and the client sends them elsewhere. So the connection is not
    // ended the moment it is idle: the client closes it once its own calls are answered, and
    // one that does not is ended when idle after the linger.
    const linger = setTimeout(() => {
      this.lingerOver = true;
      this.endIfIdle();
    }, lingerMs);
    linger.unref();
  }

  /** Called when one of this connection's calls has been answered or dropped. */
  callFinished(call: ServerCall): void {
    this.calls.remove(call);
    if (call.stream !== null) this.streams--;
    if (this.calls.size === 0) {
      this.lastActiveAt = now();
      if (this.limits.idleTimeoutMs > 0 && this.state === ConnectionState.Open)
        this.armBy(this.lastActiveAt + this.limits.idleTimeoutMs);
    }
    if (this.lingerOver) this.endIfIdle();
  }

  destroy(): void {
    this.socket.destroy();
    // Ended now, not at the socket's 'close' a loop phase later: by then its calls still waiting
    // for a turn would have started their handlers for a caller that is gone.
    this.closed();
  }

  private endIfIdle(): void {
    if (this.calls.size === 0 && this.state === ConnectionState.Draining) {
      this.writer.flush();
      this.socket.end();
    }
  }

  /**
   * A peer that sends requests but does not read the answers: stop reading its requests until
   * the socket drains, so what waits for it stays bounded (by this limit plus the answers of the
   * calls already in flight). Checked after each answer and whenever the socket pushes back.
   */
  pauseIfBacklogged(): void {
    if (!this.paused && this.writer.isBlocked && this.writer.bufferedBytes > this.owner.maxBufferedBytes) {
      this.paused = true;
      this.pausedAt = now();
      this.socket.pause();
      this.armBy(this.pausedAt + this.limits.slowReaderTimeoutMs);
    }
  }

  /** WriterEvents */
  onBlocked(): void {
    this.pauseIfBacklogged();
  }

  /** WriterEvents */
  onDrain(): void {
    if (this.writer.bufferedBytes <= this.owner.maxBufferedBytes) this.wakeWriters();
    if (this.paused && this.writer.bufferedBytes <= this.owner.maxBufferedBytes / 2) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private closed(): void {
    if (this.ended) return;
    this.ended = true;
    this.state = ConnectionState.Closed;
    sharedWheel.remove(this);
    this.decoder.fail();
    this.writer.close();
    this.cancelCalls(new RpcError(Status.CANCELLED, 'the caller disconnected', { reason: Reason.CallerGone }));
    this.wakeWriters();
    this.owner.connectionClosed(this);
  }

  private cancelCalls(error: RpcError): void {
    for (const call of this.calls.values()) call.cancel(error);
  }
}

/**
 * What a caller's CANCEL means. A client also gives up at its deadline, and says so with CANCEL,
 * which can arrive just before this side's copy of that deadline fires: the budget crossed the
 * wire in whole ms, and each side's timer wheel fires up to a tick late. Within that margin of the
 * deadline the CANCEL is the deadline, so the handler sees DEADLINE_EXCEEDED whichever came first.
 */
function callerCancellation(call: ServerCall, time: number): RpcError {
  if (time + WHEEL_TICK_MS + 1 >= call.deadline) return call.deadlineError();
  return new RpcError(Status.CANCELLED, 'the caller cancelled the call', { reason: Reason.Cancelled });
}
