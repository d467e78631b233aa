import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  InvalidArgumentError,
  RemoteRpcError,
  type RequestContext,
  RpcError,
  clientStream,
  createClient,
  defineService,
  method,
  serverStream,
  sleep,
} from 'corpc';
import { protocol } from 'corpc/internal';
import { eventually } from './helpers/eventually.ts';
import { RawPeer } from './helpers/raw-peer.ts';
import { rejection, serve } from './helpers/servers.ts';

const { FrameKind, PREFACE, RequestHeader, packr, unpackAt } = protocol;

const Feed = defineService('Feed', {
  forever: serverStream<{ everyMs: number }, { n: number }>(),
  /** As forever, and tells `watched` how it ended. */
  watched: serverStream<{ everyMs: number }, { n: number }>(),
  ticks: serverStream<{ count: number; everyMs: number }, { n: number }>(),
  upload: clientStream<{ data: string }, { bytes: number }>(),
  /** Reads nothing for 10 s: its client must wait at the window. */
  hold: clientStream<{ data: string }, { bytes: number }>(),
  /** Yields a message of each size (MessagePack bytes), then, with `hold`, waits until cancelled. */
  blobs: serverStream<{ sizes: number[]; hold: boolean }, { data: string }>(),
  ping: method<{ text: string }, { text: string }>(),
});

/** A message whose MessagePack encoding is exactly `bytes` long. */
function blobOf(bytes: number): { data: string } {
  const overhead = packr.pack({ data: 'x'.repeat(bytes) }).length - bytes;
  const blob = { data: 'x'.repeat(bytes - overhead) };
  assert.is(packr.pack(blob).length, bytes);
  return blob;
}

let finallies = 0;
/** How the last `watched` handler ended: whether its signal had aborted when its finally ran. */
let watchedEnd: { aborted: boolean } | null = null;
/** Why the last `blobs` handler was cancelled (its signal's reason), once its finally ran. */
let blobsEnd: { reason: string | undefined } | null = null;

const handlers = {
  async *forever({ everyMs }: { everyMs: number }) {
    try {
      for (let n = 0; ; n++) {
        await sleep(everyMs);
        yield { n };
      }
    } finally {
      finallies++;
    }
  },
  async *watched({ everyMs }: { everyMs: number }, context: RequestContext) {
    try {
      for (let n = 0; ; n++) {
        await sleep(everyMs);
        yield { n };
      }
    } finally {
      watchedEnd = { aborted: context.signal.aborted };
    }
  },
  async *ticks({ count, everyMs }: { count: number; everyMs: number }) {
    for (let n = 0; n < count; n++) {
      await sleep(everyMs);
      yield { n };
    }
  },
  async upload(chunks: AsyncIterable<{ data: string }>) {
    let bytes = 0;
    for await (const { data } of chunks) bytes += data.length;
    return { bytes };
  },
  async hold() {
    await sleep(10_000);
    return { bytes: 0 };
  },
  async *blobs({ sizes, hold }: { sizes: number[]; hold: boolean }, context: RequestContext) {
    try {
      for (const size of sizes) yield blobOf(size);
      if (hold) await sleep(60_000);
    } finally {
      blobsEnd = { reason: (context.signal.reason as RpcError | undefined)?.reason };
    }
  },
  async ping(request: { text: string }) {
    return request;
  },
};

async function firstMessage(stream: AsyncIterable<unknown>): Promise<AsyncIterator<unknown>> {
  const iterator = stream[Symbol.asyncIterator]();
  await iterator.next();
  return iterator;
}

test('streams per connection: one too many is refused with RESOURCE_EXHAUSTED, the connection serves on', async () => {
  const { server, target } = await serve(Feed, handlers, { maxStreamsPerConnection: 2 });
  const client = createClient(Feed, target, { maxRetries: 0 });
  try {
    const open = [
      await firstMessage(client.forever({ everyMs: 5 }, { timeoutMs: 5000 })),
      await firstMessage(client.forever({ everyMs: 5 }, { timeoutMs: 5000 })),
    ];
    const third = await rejection(firstMessage(client.forever({ everyMs: 5 }, { timeoutMs: 5000 })));
    assert.is((third as RpcError).code, 'RESOURCE_EXHAUSTED');
    assert.is((third as RpcError).reason, 'too_many_streams');
    assert.equal(await client.ping({ text: 'still here' }), { text: 'still here' });
    for (const iterator of open) await iterator.return!();
    await eventually('the streams to end', () => server.stats().inFlight === 0);
    await (await firstMessage(client.forever({ everyMs: 5 }, { timeoutMs: 5000 }))).return!();
  } finally {
    client.destroy();
    await server.close(0);
  }
});

test('a message over maxMessageBytes ends its stream, not the connection', async () => {
  const { server, target } = await serve(Feed, handlers, { maxMessageBytes: 1000 });
  const client = createClient(Feed, target, { maxRetries: 0 });
  try {
    assert.equal(await client.upload([{ data: 'x'.repeat(900) }]), { bytes: 900 });
    const error = await rejection(client.upload([{ data: 'small' }, { data: 'x'.repeat(2000) }], { timeoutMs: 2000 }));
    assert.is((error as RpcError).code, 'RESOURCE_EXHAUSTED');
    assert.is((error as RpcError).reason, 'message_too_large');
    assert.match((error as RpcError).message, /exceeds the limit of 1000 bytes \(maxMessageBytes\)/);
    assert.equal(await client.ping({ text: 'same connection' }), { text: 'same connection' });
    assert.is(server.stats().connections, 1);
  } finally {
    client.destroy();
    await server.close(0);
  }
});

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const received: T[] = [];
  for await (const message of stream) received.push(message);
  return received;
}

test("client maxMessageBytes: a server's message over it ends that stream (CANCEL sent), the connection serves on", async () => {
  const { server, target } = await serve(Feed, handlers);
  const client = createClient(Feed, target, { maxRetries: 0, maxMessageBytes: 1000 });
  try {
    blobsEnd = null;
    const received: { data: string }[] = [];
    const error = await rejection(
      (async () => {
        for await (const blob of client.blobs({ sizes: [100, 1001], hold: true }, { timeoutMs: 30_000 }))
          received.push(blob);
      })(),
    );
    assert.instance(error, RpcError);
    assert.not.instance(error, RemoteRpcError, 'decided by the client');
    assert.is((error as RpcError).code, 'RESOURCE_EXHAUSTED');
    assert.is((error as RpcError).reason, 'message_too_large');
    assert.match((error as RpcError).message, /of 1001 bytes exceeds the limit of 1000 bytes \(maxMessageBytes\)/);
    assert.equal(received, [blobOf(100)], 'the messages before it were delivered');
    // The handler holds the stream open for a minute: only the client's CANCEL ends it now.
    await eventually('the handler to be cancelled', () => blobsEnd !== null);
    assert.equal(blobsEnd, { reason: 'cancelled' });
    assert.equal(await client.ping({ text: 'same connection' }), { text: 'same connection' });
    assert.is(server.stats().connections, 1);
  } finally {
    client.destroy();
    await server.close(0);
  }
});

test('client maxMessageBytes: a message of exactly the limit arrives; the default is 1 MiB, as on the server', async () => {
  const { server, target } = await serve(Feed, handlers);
  const small = createClient(Feed, target, { maxRetries: 0, maxMessageBytes: 1000 });
  const byDefault = createClient(Feed, target, { maxRetries: 0 });
  try {
    assert.equal(await collect(small.blobs({ sizes: [100, 999, 1000], hold: false })), [
      blobOf(100),
      blobOf(999),
      blobOf(1000),
    ]);
    const mib = 1024 * 1024;
    assert.equal((await collect(byDefault.blobs({ sizes: [mib], hold: false }, { timeoutMs: 5000 }))).length, 1);
    const error = await rejection(collect(byDefault.blobs({ sizes: [mib + 1], hold: false }, { timeoutMs: 5000 })));
    assert.is((error as RpcError).reason, 'message_too_large');
    assert.match((error as RpcError).message, /exceeds the limit of 1048576 bytes/);
  } finally {
    small.destroy();
    byDefault.destroy();
    await server.close(0);
  }
});

test('client maxMessageBytes is validated by name', () => {
  const rejects = (options: object, message: string): void => {
    try {
      createClient(Feed, '127.0.0.1:1', options as never);
    } catch (error) {
      assert.instance(error, InvalidArgumentError);
      assert.is((error as Error).message, message);
      return;
    }
    assert.unreachable(`accepted ${JSON.stringify(options)}`);
  };
  rejects({ maxMessageBytes: 0 }, 'maxMessageBytes must be an integer ≥ 1, got 0');
  rejects({ maxMessageBytes: '64k' }, 'maxMessageBytes must be an integer ≥ 1, got "64k"');
  rejects({ maxMessageByte: 1000 }, 'maxMessageByte: unknown key (did you mean "maxMessageBytes"?)');
});

function header(methodPath: string): unknown[] {
  const fields: unknown[] = [];
  fields[RequestHeader.METHOD] = methodPath;
  fields[RequestHeader.DEADLINE_MS] = 5000;
  fields[RequestHeader.BUSINESS] = 1;
  fields[RequestHeader.USER] = 2;
  fields[RequestHeader.TRACE_ID] = 'raw';
  fields[RequestHeader.METADATA] = null;
  return fields;
}

/** The frames received after the preface: kind, id and the bytes after kind and id. */
function frames(peer: RawPeer): { kind: number; id: number; fields: Buffer }[] {
  const out: { kind: number; id: number; fields: Buffer }[] = [];
  let offset = PREFACE.length;
  const bytes = peer.received;
  while (offset + 4 <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    if (offset + 4 + length > bytes.length) break;
    out.push({
      kind: bytes[offset + 4]!,
      id: bytes.readUInt32BE(offset + 5),
      fields: bytes.subarray(offset + 9, offset + 4 + length),
    });
    offset += 4 + length;
  }
  return out;
}

test('on the wire: a stream that breaks a rule while still queued is answered with that rule, when its turn comes', async () => {
  const { server, port, target } = await serve(Feed, handlers, { concurrency: 1, maxMessageBytes: 1000 });
  const client = createClient(Feed, target, { maxRetries: 0 });
  const peer = await RawPeer.connect(port);
  const leave = new AbortController();
  try {
    // The one handler slot is taken for 10 s, so the raw peer's stream waits in the queue.
    const holding = rejection(client.hold([{ data: 'x' }], { timeoutMs: 30_000, signal: leave.signal }));
    await eventually('the slot to be taken', () => server.stats().inFlight === 1);
    peer.preface();
    const open = peer.request(9, header('Feed/upload'));
    open[4] = FrameKind.OPEN;
    const tooLarge = Buffer.concat([Buffer.alloc(2), packr.pack(blobOf(2000))]);
    peer.write(Buffer.concat([open, peer.frame(FrameKind.MESSAGE, 9, tooLarge)]));
    await eventually('both calls to be in', () => server.stats().inFlight === 2);
    leave.abort();
    await holding;
    await eventually('the stream to be answered', () => frames(peer).some((f) => f.id === 9));
    const answers = frames(peer).filter((f) => f.id === 9);
    assert.equal(
      answers.map((f) => f.kind),
      [FrameKind.ERROR],
    );
    const fields = answers[0]!.fields;
    const [status, , reason] = unpackAt(fields, 2, fields.length) as [number, string, string];
    assert.is(status, 8, 'RESOURCE_EXHAUSTED');
    assert.is(reason, 'message_too_large');
  } finally {
    peer.destroy();
    client.destroy();
    await server.close(0);
  }
});

test('on the wire: OPEN, the client grants credit, MESSAGE frames carry the admission level, RESPONSE ends', async () => {
  const { server, port } = await serve(Feed, handlers);
  const peer = await RawPeer.connect(port);
  try {
    peer.preface();
    const open = peer.request(7, header('Feed/ticks'), { count: 3, everyMs: 1 });
    open[4] = FrameKind.OPEN;
    const credit = Buffer.alloc(4);
    // Each { n } is 4 bytes: credit for two messages, then the producer waits.
    credit.writeUInt32BE(8, 0);
    peer.write(Buffer.concat([open, peer.frame(FrameKind.CREDIT, 7, credit)]));
    await eventually('two messages', () => frames(peer).length >= 2);
    await sleep(50);
    assert.equal(
      frames(peer).map((f) => f.kind),
      [FrameKind.MESSAGE, FrameKind.MESSAGE],
    );
    for (const [n, frame] of frames(peer).entries()) {
      assert.is(frame.id, 7);
      assert.is(frame.fields.readUInt16BE(0), server.admissionLevel);
      assert.equal(unpackAt(frame.fields, 2, frame.fields.length), { n });
    }
    credit.writeUInt32BE(100, 0);
    peer.write(peer.frame(FrameKind.CREDIT, 7, credit));
    await eventually('the end of the stream', () => frames(peer).length === 4);
    assert.equal(
      frames(peer).map((f) => f.kind),
      [FrameKind.MESSAGE, FrameKind.MESSAGE, FrameKind.MESSAGE, FrameKind.RESPONSE],
    );
    assert.is(frames(peer)[3]!.fields.length, 2, 'a server stream ends with no body');
  } finally {
    peer.destroy();
    await server.close(0);
  }
});

test('a client that sends past its credit gets its stream ended (window_exceeded); the connection stays', async () => {
  const { server, port } = await serve(Feed, handlers, { streamWindowBytes: 2 });
  const peer = await RawPeer.connect(port);
  try {
    peer.preface();
    const open = peer.request(3, header('Feed/hold'));
    open[4] = FrameKind.OPEN;
    peer.write(open);
    await eventually('the server to grant its window', () => frames(peer).some((f) => f.kind === FrameKind.CREDIT));
    const credit = frames(peer).find((f) => f.kind === FrameKind.CREDIT)!;
    assert.is(credit.fields.readUInt32BE(0), 2);
    const message = Buffer.concat([Buffer.from([0xff, 0xff]), Buffer.from(packr.pack({ data: 'x' }))]);
    peer.write(Buffer.concat([1, 2, 3].map(() => peer.frame(FrameKind.MESSAGE, 3, message))));
    await eventually('an error answer', () => frames(peer).some((f) => f.kind === FrameKind.ERROR));
    const error = frames(peer).find((f) => f.kind === FrameKind.ERROR)!;
    const [status, , reason] = unpackAt(error.fields, 2, error.fields.length) as [number, string, string];
    assert.is(status, 8);
    assert.is(reason, 'window_exceeded');
    peer.write(peer.request(4, header('Feed/ping'), { text: 'after' }));
    await eventually('the unary answer', () => frames(peer).some((f) => f.kind === FrameKind.RESPONSE && f.id === 4));
    assert.not.ok(peer.closed);
  } finally {
    peer.destroy();
    await server.close(0);
  }
});

test('drain: close(grace) lets a stream that ends in time finish, then ends the rest with UNAVAILABLE (server_closing)', async () => {
  const { server, target } = await serve(Feed, handlers);
  const client = createClient(Feed, target, { maxRetries: 0 });
  try {
    finallies = 0;
    const short: number[] = [];
    const finishing = (async () => {
      for await (const tick of client.ticks({ count: 5, everyMs: 20 }, { timeoutMs: 5000 })) short.push(tick.n);
    })();
    const endless = (async () => {
      for await (const tick of client.forever({ everyMs: 10 }, { timeoutMs: 10_000 })) void tick;
    })();
    await sleep(30);
    const closed = server.close(400);
    await finishing;
    assert.equal(short, [0, 1, 2, 3, 4]);
    const error = await rejection(endless);
    assert.instance(error, RpcError);
    assert.is((error as RpcError).code, 'UNAVAILABLE');
    assert.is((error as RpcError).reason, 'server_closing');
    await closed;
    await eventually('the handler to be closed', () => finallies === 1);
  } finally {
    client.destroy();
    await server.close(0);
  }
});

test('drain on the wire: a stream still open when the grace ends gets exactly one terminal frame, UNAVAILABLE (server_closing)', async () => {
  const { server, port } = await serve(Feed, handlers);
  const peer = await RawPeer.connect(port);
  try {
    watchedEnd = null;
    peer.preface();
    const open = peer.request(5, header('Feed/watched'), { everyMs: 1 });
    open[4] = FrameKind.OPEN;
    const credit = Buffer.alloc(4);
    credit.writeUInt32BE(1 << 20, 0);
    peer.write(Buffer.concat([open, peer.frame(FrameKind.CREDIT, 5, credit)]));
    await eventually('the stream to flow', () => frames(peer).some((f) => f.kind === FrameKind.MESSAGE));
    await server.close(50);
    // Whatever the server still had to send is here once it has cut the connection.
    await peer.waitClosed();
    const terminal = frames(peer).filter(
      (f) => f.id === 5 && (f.kind === FrameKind.RESPONSE || f.kind === FrameKind.ERROR),
    );
    assert.equal(
      terminal.map((f) => f.kind),
      [FrameKind.ERROR],
      'one terminal frame',
    );
    const fields = terminal[0]!.fields;
    const [status, , reason] = unpackAt(fields, 2, fields.length) as [number, string, string];
    assert.is(status, 14);
    assert.is(reason, 'server_closing');
    const last = frames(peer)
      .filter((f) => f.id === 5)
      .at(-1)!;
    assert.is(last.kind, FrameKind.ERROR, 'nothing after it');
    assert.equal(watchedEnd, { aborted: true }, "the handler's finally ran with its signal aborted");
  } finally {
    peer.destroy();
    await server.close(0);
  }
});

test.run();
