import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { RpcError, createClient } from 'corpc';
import { protocol } from 'corpc/internal';
import { Echo } from '../services/echo/echo.ts';
import { frame } from './fuzz/attacks.ts';
import { scopedTest } from './helpers/scope.ts';

const { FrameKind, PREFACE } = protocol;

/** A fake server that answers every connection with `reply(requestId)`'s bytes. */
async function fakeServer(): Promise<{
  port: number;
  reply: (bytes: (id: number) => Buffer) => void;
  close: () => Promise<void>;
}> {
  let make: (id: number) => Buffer = () => Buffer.alloc(0);
  const sockets = new Set<Socket>();
  const net = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.once('data', (chunk: Buffer) => {
      // The client's preface, then its first request: answer with whatever the test wants.
      const id = chunk.length >= PREFACE.length + 9 ? chunk.readUInt32BE(PREFACE.length + 5) : 1;
      socket.write(make(id));
    });
  });
  net.listen(0, '127.0.0.1');
  await once(net, 'listening');
  return {
    port: (net.address() as AddressInfo).port,
    reply: (bytes) => (make = bytes),
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => net.close(() => resolve()));
    },
  };
}

scopedTest(
  'a client facing a hostile server settles every call by its deadline with an RpcError, and never crashes',
  async (t) => {
    const server = await fakeServer();
    t.defer(() => server.close());
    const answers = fc.oneof(
      fc.tuple(fc.integer({ min: 1, max: 255 }), fc.uint8Array({ maxLength: 40 })).map(
        ([kind, fields]) =>
          (id: number) =>
            frame(kind, id, fields),
      ),
      fc.tuple(fc.integer({ min: 1, max: 7 }), fc.uint8Array({ maxLength: 2 })).map(
        ([kind, fields]) =>
          (id: number) =>
            frame(kind, id, fields),
      ),
      fc.uint8Array({ maxLength: 64 }).map((bytes) => () => Buffer.from(bytes)),
      fc
        .constantFrom(FrameKind.RESPONSE, FrameKind.ERROR)
        .chain((kind) =>
          fc
            .uint8Array({ maxLength: 30 })
            .map((body) => (id: number) => frame(kind, id, Buffer.concat([Buffer.from([0, 0]), body]))),
        ),
    );
    await fc.assert(
      fc.asyncProperty(answers, fc.boolean(), async (answer, withPreface) => {
        server.reply((id) => Buffer.concat([withPreface ? PREFACE : Buffer.alloc(0), answer(id)]));
        const client = createClient(Echo, `127.0.0.1:${server.port}`, { connectTimeoutMs: 100 });
        try {
          await client.echo({ text: 'hi' }, { timeoutMs: 150 });
        } catch (error) {
          assert.instance(error, RpcError);
        } finally {
          client.destroy();
        }
      }),
      { numRuns: 80 },
    );
  },
);

scopedTest('a server that accepts but never speaks fails the call at connectTimeoutMs as UNAVAILABLE', async (t) => {
  const server = await fakeServer();
  const client = createClient(Echo, `127.0.0.1:${server.port}`, { connectTimeoutMs: 200 });
  t.defer(() => server.close());
  t.defer(() => client.destroy());
  const error = (await client.echo({ text: 'hello?' }, { timeoutMs: 5000 }).catch((e: unknown) => e)) as RpcError;
  assert.instance(error, RpcError);
  assert.is(error.code, 'UNAVAILABLE');
  assert.match(error.message, /no handshake from 127\.0\.0\.1:\d+ within 200 ms \(connectTimeoutMs\)/);
});

test.run();
