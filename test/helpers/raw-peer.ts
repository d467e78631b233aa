import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { protocol } from 'corpc/internal';

const { FrameKind, PREFACE, packr } = protocol;

/**
 * A hand-driven client for protocol tests: writes exactly the bytes a test wants (valid or not)
 * and collects what the server sends back.
 */
export class RawPeer {
  readonly socket: Socket;
  received = Buffer.alloc(0);
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => (this.received = Buffer.concat([this.received, chunk])));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }

  static async connect(port: number): Promise<RawPeer> {
    const socket = connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    return new RawPeer(socket);
  }

  write(bytes: Buffer | Uint8Array): void {
    this.socket.write(bytes);
  }

  preface(): void {
    this.write(PREFACE);
  }

  /** A complete frame: length, kind, id, then `fields`. */
  frame(kind: number, id: number, fields: Uint8Array = Buffer.alloc(0)): Buffer {
    const frame = Buffer.alloc(9 + fields.length);
    frame.writeUInt32BE(5 + fields.length, 0);
    frame[4] = kind;
    frame.writeUInt32BE(id, 5);
    Buffer.from(fields).copy(frame, 9);
    return frame;
  }

  /** A REQUEST frame with an arbitrary header value and body. */
  request(id: number, header: unknown, body?: unknown): Buffer {
    const headerBytes = packr.pack(header);
    const bodyBytes = body === undefined ? Buffer.alloc(0) : packr.pack(body);
    const fields = Buffer.alloc(2 + headerBytes.length + bodyBytes.length);
    fields.writeUInt16BE(headerBytes.length, 0);
    Buffer.from(headerBytes).copy(fields, 2);
    Buffer.from(bodyBytes).copy(fields, 2 + headerBytes.length);
    return this.frame(FrameKind.REQUEST, id, fields);
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    const started = Date.now();
    while (!this.closed) {
      if (Date.now() - started > timeoutMs) throw new Error('the server did not close the connection');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** The kinds of the frames received after the server's preface. */
  frameKinds(): number[] {
    const kinds: number[] = [];
    let offset = PREFACE.length;
    while (offset + 4 <= this.received.length) {
      const length = this.received.readUInt32BE(offset);
      kinds.push(this.received[offset + 4]!);
      offset += 4 + length;
    }
    return kinds;
  }

  /** The message of the GOAWAY frame the server sent before closing, if any. */
  goawayMessage(): string | null {
    let offset = PREFACE.length;
    while (offset + 9 <= this.received.length) {
      const length = this.received.readUInt32BE(offset);
      if (this.received[offset + 4] === FrameKind.GOAWAY) {
        return (protocol.unpackAt(this.received, offset + 9, offset + 4 + length) as [number, string])[1];
      }
      offset += 4 + length;
    }
    return null;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
