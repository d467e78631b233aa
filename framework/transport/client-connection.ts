import { connect, type Socket } from 'node:net';
import { debuglog } from 'node:util';
import { RpcError, Status, isStatus } from '../errors.ts';
import { sharedWheel } from '../deadline.ts';
import { FrameDecoder, FrameKind, FrameWriter, unpackAt, type FrameSink } from '../protocol/index.ts';
import type { ClientCall } from './client-call.ts';

const debug = debuglog('corpc:client');

export const enum ClientConnectionState {
  Connecting,
  Ready,
  /** The server sent GOAWAY: finish what is in flight, send nothing new. */
  Draining,
  Closed,
}

/** What a connection reports to the endpoint that owns it. */
export interface ConnectionEvents {
  /** The server answered (`ok`: successfully) and told its admission level. */
  onAdmissionLevel(level: number, ok: boolean): void;
  onReady(connection: ClientConnection): void;
  /** The connection is gone; `error` says why when it failed. */
  onClosed(connection: ClientConnection, error: RpcError | null): void;
}

/** The client's side of one connection to one server address. */
export class ClientConnection implements FrameSink {
  readonly address: string;
  state = ClientConnectionState.Connecting;
  readonly pending = new Map<number, ClientCall>();
  readonly writer: FrameWriter;
  private readonly socket: Socket;
  private readonly decoder: FrameDecoder;
  private readonly events: ConnectionEvents;
  private nextId = 1;
  /** Why the connection is going away (a GOAWAY's message or a socket error). */
  private closeReason: RpcError | null = null;
  private closedWaiters: (() => void)[] | null = null;

  constructor(host: string, port: number, maxFrameBytes: number, events: ConnectionEvents) {
    this.address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    this.events = events;
    this.socket = connect({ host, port, noDelay: true });
    this.decoder = new FrameDecoder(this, maxFrameBytes);
    this.writer = new FrameWriter(this.socket, null);
    this.socket.on('data', (chunk: Buffer) => this.decoder.push(chunk));
    this.socket.on('error', (error) => {
      this.closeReason ??= new RpcError(Status.UNAVAILABLE, `connection to ${this.address} failed: ${error.message}`, {
        reason: 'connection_failed',
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
    const id = this.allocateId();
    this.writer.request(id, header, call.request);
    call.connection = this;
    call.id = id;
    this.pending.set(id, call);
    sharedWheel.add(call, call.deadline);
    call.parent?.addChild(call);
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

  onFrame(kind: number, id: number, buf: Buffer, start: number, end: number): void {
    switch (kind) {
      case FrameKind.RESPONSE:
      case FrameKind.ERROR:
        return this.answer(kind, id, buf, start, end);
      case FrameKind.PING:
        return this.writer.control(FrameKind.PONG, id);
      case FrameKind.PONG:
        return;
      case FrameKind.GOAWAY:
        return this.goaway(buf, start, end);
      default:
        this.onProtocolError(new RpcError(Status.INTERNAL, `protocol error: a server may not send frame kind ${kind}`));
    }
  }

  onProtocolError(error: RpcError): void {
    debug('closing connection to %s: %s', this.address, error.message);
    this.destroy(new RpcError(Status.UNAVAILABLE, `connection to ${this.address} closed: ${error.message}`, { reason: 'protocol_error' }));
  }

  private answer(kind: number, id: number, buf: Buffer, start: number, end: number): void {
    this.events.onAdmissionLevel(buf.readUInt16BE(start + 5), kind === FrameKind.RESPONSE);
    const call = this.pending.get(id);
    // No call: it was abandoned (deadline, cancel) before the answer came. Nothing to do.
    if (call === undefined) return;
    this.settle(call);
    const bodyStart = start + 7;
    if (kind === FrameKind.RESPONSE) {
      let result: unknown;
      try {
        result = bodyStart < end ? unpackAt(buf, bodyStart, end) : undefined;
        const decode = call.method.decodeResponse;
        if (decode !== undefined) result = decode(result);
      } catch (error) {
        call.reject(
          error instanceof RpcError
            ? error
            : new RpcError(Status.INTERNAL, `${call.method.path}: malformed response from ${this.address}`, { cause: error }),
        );
        return;
      }
      call.resolve(result);
    } else {
      call.attemptFailed(this.remoteError(call, buf, bodyStart, end));
    }
    if (this.state === ClientConnectionState.Draining && this.pending.size === 0) this.end();
  }

  private remoteError(call: ClientCall, buf: Buffer, start: number, end: number): RpcError {
    let fields: unknown;
    try {
      fields = unpackAt(buf, start, end);
    } catch {
      fields = null;
    }
    if (!Array.isArray(fields) || !isStatus(fields[0]) || typeof fields[1] !== 'string') {
      return new RpcError(Status.INTERNAL, `${call.method.path}: malformed error answer from ${this.address}`);
    }
    const reason = typeof fields[2] === 'string' ? fields[2] : undefined;
    return new RemoteRpcError(fields[0], fields[1], this.address, reason);
  }

  private goaway(buf: Buffer, start: number, end: number): void {
    let message = 'the server is going away';
    try {
      const fields = unpackAt(buf, start + 5, end);
      if (Array.isArray(fields) && typeof fields[1] === 'string') message = fields[1];
    } catch {
      // keep the generic message
    }
    debug('GOAWAY from %s: %s', this.address, message);
    this.closeReason ??= new RpcError(Status.UNAVAILABLE, `${this.address}: ${message}`, { reason: 'goaway' });
    this.drain();
    this.events.onClosed(this, null);
  }

  onPreface(): void {
    if (this.state === ClientConnectionState.Connecting) this.state = ClientConnectionState.Ready;
    this.events.onReady(this);
  }

  private settle(call: ClientCall): void {
    this.pending.delete(call.id);
    call.connection = null;
    sharedWheel.remove(call);
    call.parent?.removeChild(call);
  }

  private end(): void {
    this.writer.flush();
    this.socket.end();
  }

  private closed(): void {
    const wasReady = this.state !== ClientConnectionState.Connecting;
    this.state = ClientConnectionState.Closed;
    this.decoder.fail();
    this.writer.close();
    const error =
      this.closeReason ??
      new RpcError(Status.UNAVAILABLE, `connection to ${this.address} closed by the server`, { reason: 'connection_closed' });
    const unanswered = [...this.pending.values()];
    for (const call of unanswered) this.settle(call);
    // The endpoint learns first, so a retry below does not pick this connection's slot mid-update.
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

/** An error answer that came from a server (not decided locally). */
export class RemoteRpcError extends RpcError {
  constructor(
    status: Status,
    message: string,
    /** The address of the server that answered. */
    readonly peer: string,
    reason: string | undefined,
  ) {
    super(status, message, { reason });
  }
}

