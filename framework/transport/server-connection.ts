import type { Socket } from 'node:net';
import { debuglog } from 'node:util';
import { RpcError, Status } from '../errors.ts';
import { FrameDecoder, FrameKind, FrameWriter, type FrameSink } from '../protocol/index.ts';
import type { ServerCall } from './server-call.ts';

const debug = debuglog('corpc:server');

/** What a connection needs from its server. */
export interface ConnectionOwner {
  readonly maxFrameBytes: number;
  readonly maxBufferedBytes: number;
  /** The level sent with every answer. */
  readonly admissionLevel: number;
  dispatch(connection: ServerConnection, id: number, buf: Buffer, start: number, end: number): void;
  connectionClosed(connection: ServerConnection): void;
}

export const enum ConnectionState {
  Open,
  /** A GOAWAY was sent: answer what is in flight, accept nothing new, then close. */
  Draining,
  Closed,
}

/** The server's side of one client connection. */
export class ServerConnection implements FrameSink {
  readonly socket: Socket;
  readonly writer: FrameWriter;
  readonly peer: string;
  /** Requests read on this connection and not yet answered, by id (for CANCEL). */
  readonly calls = new Map<number, ServerCall>();
  state = ConnectionState.Open;
  /** Draining, and the time given to requests already on their way is over. */
  private lingerOver = false;
  private readonly decoder: FrameDecoder;
  private readonly owner: ConnectionOwner;
  private lastRequestId = 0;
  /** Reads stopped because the peer does not read its answers. */
  paused = false;

  constructor(socket: Socket, owner: ConnectionOwner) {
    this.socket = socket;
    this.owner = owner;
    this.peer = `${socket.remoteAddress}:${socket.remotePort}`;
    this.decoder = new FrameDecoder(this, owner.maxFrameBytes);
    this.writer = new FrameWriter(socket, this);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.decoder.push(chunk));
    socket.on('error', (error) => debug('connection %s: %s', this.peer, error.message));
    socket.on('close', () => this.closed());
    this.writer.preface();
  }

  onFrame(kind: number, id: number, buf: Buffer, start: number, end: number): void {
    switch (kind) {
      case FrameKind.REQUEST:
        this.lastRequestId = id;
        this.owner.dispatch(this, id, buf, start, end);
        return;
      case FrameKind.CANCEL:
        this.calls.get(id)?.cancel(new RpcError(Status.CANCELLED, 'the caller cancelled the call'));
        return;
      case FrameKind.PING:
        this.writer.control(FrameKind.PONG, id);
        return;
      case FrameKind.GOAWAY:
        // The client is leaving; its calls in flight still get their answers.
        return;
      default:
        this.protocolError(new RpcError(Status.INTERNAL, `protocol error: a client may not send frame kind ${kind}`));
    }
  }

  onPreface(): void {}

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
    this.cancelCalls(new RpcError(Status.CANCELLED, `connection closed: ${error.message}`));
  }

  /** Writes an error answer for request `id`. */
  answerError(id: number, status: Status, message: string, reason?: string): void {
    if (this.state !== ConnectionState.Closed) this.writer.error(id, this.owner.admissionLevel, status, message, reason);
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
    this.calls.delete(call.id);
    if (this.lingerOver) this.endIfIdle();
  }

  destroy(): void {
    this.socket.destroy();
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
      this.socket.pause();
    }
  }

  /** @internal WriterEvents */
  onBlocked(): void {
    this.pauseIfBacklogged();
  }

  /** @internal WriterEvents */
  onDrain(): void {
    if (this.paused && this.writer.bufferedBytes <= this.owner.maxBufferedBytes / 2) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private closed(): void {
    this.state = ConnectionState.Closed;
    this.decoder.fail();
    this.writer.close();
    this.cancelCalls(new RpcError(Status.CANCELLED, 'the caller disconnected'));
    this.owner.connectionClosed(this);
  }

  private cancelCalls(error: RpcError): void {
    for (const call of this.calls.values()) call.cancel(error);
  }
}
