import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { Packr, Unpackr } from 'msgpackr';
import { PAYLOAD, type EchoSystem } from './system.ts';

/**
 * The ceiling corpc is measured against: the least an echo over TCP can do in Node with the same
 * codec and the same write batching. Frames are `u32 length, u32 id, msgpack body`; the writes of
 * one event-loop turn go out as one `socket.write`, except that, as in corpc's FrameWriter, a turn
 * that writes many frames hands them over after 8, 16 more, 32 more…. No preface, context,
 * deadline, admission or validation — exactly what corpc adds is missing here.
 */

const packr = new Packr({ useRecords: false, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const window = { start: 0, end: 0 };
const SLAB_BYTES = 64 * 1024;

class BareWire {
  private slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
  private start = 0;
  private end = 0;
  private scheduled = false;
  /** Frames since the last write, and after how many the next early one goes (as corpc's FrameWriter). */
  private pending = 0;
  private earlyWriteAfter = 8;
  private rest: Buffer | null = null;
  private readonly flushBound = (): void => this.flush();

  constructor(
    private readonly socket: Socket,
    private readonly onMessage: (id: number, body: unknown) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.read(chunk));
  }

  send(id: number, body: unknown): void {
    if (++this.pending > this.earlyWriteAfter) {
      this.write();
      this.pending = 1;
      this.earlyWriteAfter *= 2;
    }
    const bytes = packr.pack(body);
    const size = 8 + bytes.length;
    if (this.slab.length - this.end < size) {
      const unflushed = this.end - this.start;
      // Grow geometrically: a batch bigger than the slab must not copy everything once per frame.
      const next = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, 2 * (unflushed + size)));
      this.slab.copy(next, 0, this.start, this.end);
      this.slab = next;
      this.start = 0;
      this.end = unflushed;
    }
    this.slab.writeUInt32BE(4 + bytes.length, this.end);
    this.slab.writeUInt32BE(id, this.end + 4);
    this.slab.set(bytes, this.end + 8);
    this.end += size;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushBound);
    }
  }

  private flush(): void {
    this.scheduled = false;
    this.earlyWriteAfter = 8;
    this.write();
  }

  private write(): void {
    this.pending = 0;
    if (this.start === this.end || this.socket.destroyed) return;
    this.socket.write(this.slab.subarray(this.start, this.end));
    this.start = this.end;
  }

  private read(chunk: Buffer): void {
    let buf = chunk;
    if (this.rest !== null) {
      buf = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    let offset = 0;
    while (buf.length - offset >= 4) {
      const end = offset + 4 + buf.readUInt32BE(offset);
      if (end > buf.length) break;
      window.start = offset + 8;
      window.end = end;
      this.onMessage(buf.readUInt32BE(offset + 4), unpackr.unpack(buf, window));
      offset = end;
    }
    if (offset < buf.length) this.rest = buf.subarray(offset);
  }
}

export const bareSystem: EchoSystem = {
  name: 'bare',
  async serve() {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      const wire: BareWire = new BareWire(socket, (id, body) => {
        const { text } = body as { text: string };
        wire.send(id, { text });
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('bare echo: no TCP address');
    return {
      port: address.port,
      close: async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  },
  async connect(target, connections) {
    const colon = target.lastIndexOf(':');
    const host = target.slice(0, colon);
    const port = Number(target.slice(colon + 1));
    const pending = new Map<number, (body: unknown) => void>();
    const wires: BareWire[] = [];
    const sockets: Socket[] = [];
    for (let i = 0; i < connections; i++) {
      const socket = connect({ host, port });
      await once(socket, 'connect');
      sockets.push(socket);
      wires.push(
        new BareWire(socket, (id, body) => {
          const resolve = pending.get(id);
          pending.delete(id);
          resolve?.(body);
        }),
      );
    }
    let nextId = 0;
    let nextWire = 0;
    return {
      send: () =>
        new Promise((resolve) => {
          const id = (nextId = (nextId + 1) >>> 0);
          pending.set(id, resolve);
          wires[nextWire]!.send(id, PAYLOAD);
          nextWire = (nextWire + 1) % wires.length;
        }),
      close: async () => {
        for (const socket of sockets) socket.destroy();
      },
    };
  },
};
