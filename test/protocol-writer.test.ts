import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { protocol } from 'corpc/internal';
import { delay } from './helpers/servers.ts';

const { FrameDecoder, FrameKind, FrameWriter, unpackAt } = protocol;

/** A connected loopback pair: `[writing side, reading side]`. */
async function socketPair(): Promise<[Socket, Socket]> {
  const listener = createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const accepted = once(listener, 'connection');
  const reader = connect((listener.address() as { port: number }).port, '127.0.0.1');
  const [writer] = (await accepted) as [Socket];
  listener.close();
  return [writer, reader];
}

test('frames written over many turns, with the reader stalling, arrive intact and in order', async () => {
  const [writingSocket, readingSocket] = await socketPair();
  const writer = new FrameWriter(writingSocket, null);
  const sent: Buffer[] = [];
  const received: Buffer[] = [];
  const decoder = new FrameDecoder(
    {
      onFrame: (kind, id, buf, start, end) => {
        assert.is(kind, FrameKind.RESPONSE);
        assert.is(id, received.length + 1);
        received.push(Buffer.from(unpackAt(buf, start + 7, end) as Uint8Array));
      },
      onPreface: () => undefined,
      onProtocolError: (error) => assert.unreachable(error.message),
    },
    8 * 1024 * 1024,
  );
  readingSocket.on('data', (chunk: Buffer) => decoder.push(chunk));
  try {
    writer.preface();
    // Small answers the kernel takes at once, and bursts of large ones it cannot while the reader
    // stops reading: the socket holds on to the slab's bytes until they drain.
    const pool = randomBytes(1024 * 1024);
    const answer = (body: Buffer): void => {
      sent.push(body);
      writer.response(sent.length, 0, body);
    };
    for (let turn = 0; turn < 60; turn++) {
      if (turn % 10 === 5) {
        readingSocket.pause();
        for (let piece = 0; piece < 64 && writingSocket.writableLength === 0; piece++) {
          answer(pool.subarray(piece * 997, piece * 997 + 512 * 1024));
          writer.flush();
        }
        assert.ok(writingSocket.writableLength > 0, 'a large burst is still on its way');
        // More answers while it waits: they collect in the slab, which must grow (moving what it
        // holds) without touching the bytes the socket still has queued.
        for (let round = 0; round < 3; round++) {
          for (let i = 0; i < 50; i++) answer(pool.subarray(round * 50 + i, round * 50 + i + 100 + i));
          answer(pool.subarray(4096 + round, 4096 + round + 512 * 1024));
        }
        await delay(20);
        readingSocket.resume();
      } else {
        for (let i = 0; i < 50; i++) answer(pool.subarray(turn * 50 + i, turn * 50 + i + 1 + ((turn * 7 + i * 13) % 300)));
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    const started = Date.now();
    while (received.length < sent.length && Date.now() - started < 10_000) await delay(10);
    assert.is(received.length, sent.length);
    for (let i = 0; i < sent.length; i++) assert.ok(received[i]!.equals(sent[i]!), `frame ${i + 1} arrived as it was sent`);
  } finally {
    writingSocket.destroy();
    readingSocket.destroy();
  }
});

test.run();
