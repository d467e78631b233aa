import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RpcError, Status, createClient, defineService, method, serverStream } from 'corpc';
import { protocol } from 'corpc/internal';
import { Echo, echoHandlers } from '../services/echo/echo.ts';
import { RawPeer } from './helpers/raw-peer.ts';
import { rejection, serve } from './helpers/servers.ts';
import { eventually } from './helpers/eventually.ts';

const { FrameKind, PREFACE, RequestHeader, unpackAt } = protocol;

/** The preface of a peer that speaks `version`. */
function prefaceOf(version: number): Buffer {
  const bytes = Buffer.from(PREFACE);
  bytes[6] = version;
  return bytes;
}

function header(method: string): unknown[] {
  const fields: unknown[] = [];
  fields[RequestHeader.METHOD] = method;
  fields[RequestHeader.DEADLINE_MS] = 1000;
  fields[RequestHeader.BUSINESS] = 0;
  fields[RequestHeader.USER] = 0;
  fields[RequestHeader.TRACE_ID] = 't';
  fields[RequestHeader.METADATA] = null;
  return fields;
}

test('the server speaks version 2 and still serves a version-1 (unary-only) client', async () => {
  const { server, port } = await serve(Echo, echoHandlers());
  const peer = await RawPeer.connect(port);
  try {
    peer.write(prefaceOf(1));
    peer.write(peer.request(1, header('Echo/echo'), { text: 'old' }));
    await eventually('the answer', () => peer.frameKinds().length > 0);
    assert.equal(peer.frameKinds(), [FrameKind.RESPONSE]);
    assert.is(peer.received[6], 2, 'the server names its own highest version');
    const frameStart = PREFACE.length;
    const length = peer.received.readUInt32BE(frameStart);
    assert.equal(unpackAt(peer.received, frameStart + 11, frameStart + 4 + length), { text: 'old' });
  } finally {
    peer.destroy();
    await server.close(0);
  }
});

test('a version-1 client that sends a stream frame is told the kind does not exist in its version', async () => {
  const { server, port } = await serve(Echo, echoHandlers());
  const peer = await RawPeer.connect(port);
  try {
    peer.write(prefaceOf(1));
    peer.write(peer.frame(FrameKind.CREDIT, 1, Buffer.alloc(4)));
    await peer.waitClosed();
    assert.match(peer.goawayMessage() ?? '', /unknown frame kind 10 in protocol version 1/);
  } finally {
    peer.destroy();
    await server.close(0);
  }
});

test('a peer speaking a later version is refused with both versions named', async () => {
  const { server, port } = await serve(Echo, echoHandlers());
  const peer = await RawPeer.connect(port);
  try {
    peer.write(prefaceOf(3));
    await peer.waitClosed();
    assert.match(peer.goawayMessage() ?? '', /speaks corpc protocol version 3, this endpoint speaks versions 1 to 2/);
  } finally {
    peer.destroy();
    await server.close(0);
  }
});

test("a version-1 server's refusal of the version-2 preface reaches the caller as UNAVAILABLE naming both versions", async () => {
  // What a version-1 corpc server does with a version-2 preface: its own preface, then GOAWAY, then close.
  const sockets = new Set<Socket>();
  const old = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.write(prefaceOf(1));
    socket.once('data', () => {
      const fields = Buffer.from(
        protocol.packr.pack([
          Status.INTERNAL,
          'protocol error: the peer speaks corpc protocol version 2, this endpoint speaks version 1',
        ]),
      );
      const goaway = Buffer.alloc(9 + fields.length);
      goaway.writeUInt32BE(5 + fields.length, 0);
      goaway[4] = FrameKind.GOAWAY;
      fields.copy(goaway, 9);
      socket.end(goaway);
    });
  });
  old.listen(0, '127.0.0.1');
  await once(old, 'listening');
  const client = createClient(Echo, `127.0.0.1:${(old.address() as AddressInfo).port}`, { maxRetries: 0 });
  try {
    const error = await rejection(client.echo({ text: 'x' }, { timeoutMs: 2000 }));
    assert.instance(error, RpcError);
    assert.is((error as RpcError).code, 'UNAVAILABLE');
    assert.match((error as RpcError).message, /speaks corpc protocol version 2, this endpoint speaks version 1/);
  } finally {
    client.destroy();
    for (const socket of sockets) socket.destroy();
    old.close();
  }
});

test('a stream on a connection that negotiated version 1 fails UNIMPLEMENTED, and nothing is sent for it', async () => {
  // A peer that speaks version 1 but tolerates our preface: it answers every REQUEST and records the frame kinds it gets.
  const kinds: number[] = [];
  const sockets = new Set<Socket>();
  const old = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.write(prefaceOf(1));
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      let offset = buffered.subarray(0, 5).toString('latin1') === 'CORPC' ? PREFACE.length : 0;
      if (offset > 0) buffered = buffered.subarray(offset);
      offset = 0;
      while (buffered.length - offset >= 9 && buffered.length - offset >= 4 + buffered.readUInt32BE(offset)) {
        const length = buffered.readUInt32BE(offset);
        const kind = buffered[offset + 4]!;
        kinds.push(kind);
        if (kind === FrameKind.REQUEST) {
          const body = Buffer.from(protocol.packr.pack({ text: 'v1' }));
          const answer = Buffer.alloc(11 + body.length);
          answer.writeUInt32BE(7 + body.length, 0);
          answer[4] = FrameKind.RESPONSE;
          buffered.copy(answer, 5, offset + 5, offset + 9);
          answer.writeUInt16BE(0xffff, 9);
          body.copy(answer, 11);
          socket.write(answer);
        }
        offset += 4 + length;
      }
      buffered = buffered.subarray(offset);
    });
  });
  old.listen(0, '127.0.0.1');
  await once(old, 'listening');
  const Mixed = defineService('Echo', {
    echo: method<{ text: string }, { text: string }>(),
    watch: serverStream<{ text: string }, { text: string }>(),
  });
  const client = createClient(Mixed, `127.0.0.1:${(old.address() as AddressInfo).port}`, { maxRetries: 0 });
  try {
    assert.equal(await client.echo({ text: 'x' }, { timeoutMs: 2000 }), { text: 'v1' });
    const error = await rejection(
      (async () => {
        for await (const message of client.watch({ text: 'x' }, { timeoutMs: 2000 })) void message;
      })(),
    );
    assert.is((error as RpcError).code, 'UNIMPLEMENTED');
    assert.is((error as RpcError).reason, 'streams_unsupported');
    assert.match((error as RpcError).message, /speaks corpc protocol version 1, which has no streams/);
    assert.equal(kinds, [FrameKind.REQUEST]);
  } finally {
    client.destroy();
    for (const socket of sockets) socket.destroy();
    old.close();
  }
});

test.run();
