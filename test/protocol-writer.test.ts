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

/**
 * A FrameWriter on one end of a loopback pair, a FrameDecoder on the other. `scenario` writes
 * RESPONSE frames through `answer` (ids in order); then every frame must arrive as it was sent.
 */
async function writeAndCompare(
  scenario: (parts: {
    writer: InstanceType<typeof FrameWriter>;
    socket: Socket;
    peer: Socket;
    answer: (body: Buffer) => void;
  }) => Promise<void>,
): Promise<void> {
  const [socket, peer] = await socketPair();
  const writer = new FrameWriter(socket, null);
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
  peer.on('data', (chunk: Buffer) => decoder.push(chunk));
  try {
    writer.preface();
    await scenario({
      writer,
      socket,
      peer,
      answer: (body) => {
        sent.push(body);
        writer.response(sent.length, 0, body);
      },
    });
    const started = Date.now();
    while (received.length < sent.length && Date.now() - started < 10_000) await delay(10);
    assert.is(received.length, sent.length);
    for (let i = 0; i < sent.length; i++)
      assert.ok(received[i]!.equals(sent[i]!), `frame ${i + 1} arrived as it was sent`);
  } finally {
    socket.destroy();
    peer.destroy();
  }
}

test('frames written over many turns, with the reader stalling, arrive intact and in order', () =>
  writeAndCompare(async ({ writer, socket, peer, answer }) => {
    // Small answers the kernel takes at once, and bursts of large ones it cannot while the reader
    // stops reading: the socket holds on to the slab's bytes until they drain.
    const pool = randomBytes(1024 * 1024);
    for (let turn = 0; turn < 60; turn++) {
      if (turn % 10 === 5) {
        peer.pause();
        for (let piece = 0; piece < 64 && socket.writableLength === 0; piece++) {
          answer(pool.subarray(piece * 997, piece * 997 + 512 * 1024));
          writer.flush();
        }
        assert.ok(socket.writableLength > 0, 'a large burst is still on its way');
        // More answers while it waits: they collect in the slab, which must grow (moving what it
        // holds) without touching the bytes the socket still has queued.
        for (let round = 0; round < 3; round++) {
          for (let i = 0; i < 50; i++) answer(pool.subarray(round * 50 + i, round * 50 + i + 100 + i));
          answer(pool.subarray(4096 + round, 4096 + round + 512 * 1024));
        }
        await delay(20);
        peer.resume();
      } else {
        for (let i = 0; i < 50; i++)
          answer(pool.subarray(turn * 50 + i, turn * 50 + i + 1 + ((turn * 7 + i * 13) % 300)));
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }));

test('frames flushed one by one while the reader does not read stay intact (the socket keeps their bytes)', () =>
  writeAndCompare(async ({ writer, peer, answer }) => {
    peer.pause();
    for (let i = 0; i < 400; i++) {
      answer(randomBytes(40_000));
      writer.flush();
    }
    peer.resume();
  }));

test('a turn that produces many frames hands them to the socket after 8, then 16 more, 32 more, whole frames only', async () => {
  const [socket, peer] = await socketPair();
  try {
    const writer = new FrameWriter(socket, null);
    // A RESPONSE without a body: length, kind, id, admission level.
    const frameBytes = 4 + 5 + 2;
    /** Frames handed to the socket (bytesWritten counts what it still queues) after each frame of one turn. */
    const handedAfter = (frames: number, firstId: number): number[] => {
      const handed: number[] = [];
      for (let id = firstId; id < firstId + frames; id++) {
        writer.response(id, 0, undefined);
        handed.push(socket.bytesWritten / frameBytes);
      }
      return handed;
    };
    const firstTurn = handedAfter(60, 1);
    assert.equal(firstTurn.slice(0, 8), Array(8).fill(0), 'the first 8 frames wait');
    assert.is(firstTurn[8], 8, 'the 9th frame sends the 8 before it');
    assert.is(firstTurn[23], 8);
    assert.is(firstTurn[24], 24, 'then 16 more');
    assert.is(firstTurn[55], 24);
    assert.is(firstTurn[56], 56, 'then 32 more');
    assert.is(firstTurn[59], 56);
    await new Promise((resolve) => setImmediate(resolve));
    assert.is(socket.bytesWritten / frameBytes, 60, "the turn's flush sends the rest");
    const secondTurn = handedAfter(9, 61);
    assert.is(secondTurn[7], 60, 'a new turn counts from 8 again');
    assert.is(secondTurn[8], 68);
  } finally {
    socket.destroy();
    peer.destroy();
  }
});

test.run();
