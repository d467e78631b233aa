import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  RpcError,
  Status,
  bidiStream,
  clientStream,
  context,
  createClient,
  defineService,
  method,
  serverStream,
  sleep,
  type ServerOptions,
  type ServiceClient,
  type ServiceHandlers,
} from 'corpc';
import { protocol } from 'corpc/internal';
import { eventually } from './helpers/eventually.ts';
import { rejection, serve } from './helpers/servers.ts';

interface Tick {
  n: number;
  traceId?: string;
}

const Feed = defineService('Feed', {
  ticks: serverStream<{ count: number; everyMs?: number }, Tick>(),
  forever: serverStream<{ from: number }, Tick>(),
  failing: serverStream<{ after: number }, Tick>(),
  sum: clientStream<{ n: number }, { total: number; count: number }>(),
  echo: bidiStream<{ text: string }, { text: string }>(),
  ping: method<{ text: string }, { text: string }>(),
  /** Yields once, then waits on a downstream call to `slow`. */
  relay: serverStream<Record<string, never>, Tick>(),
  slow: method<{ ms: number }, Record<string, never>>(),
});

/** What the handlers saw, for the assertions. */
class Probe {
  produced = 0;
  finallyRan = 0;
  abortReason: unknown = null;
  received: number[] = [];
  /** How the downstream call of `relay` ended at its server. */
  slowOutcome = '';
  downstream: ServiceClient<typeof Feed> | null = null;
}

function handlers(probe: Probe): ServiceHandlers<typeof Feed> {
  return {
    async *ticks({ count, everyMs }) {
      const ctx = context();
      for (let n = 0; n < count; n++) {
        if (everyMs !== undefined) await sleep(everyMs);
        yield { n, traceId: ctx.traceId };
      }
    },
    async *forever({ from }, ctx) {
      ctx.signal.addEventListener('abort', () => (probe.abortReason = ctx.signal.reason));
      try {
        for (let n = from; ; n++) {
          probe.produced++;
          yield { n };
        }
      } finally {
        probe.finallyRan++;
      }
    },
    async *failing({ after }) {
      for (let n = 0; n < after; n++) yield { n };
      throw new RpcError(Status.NOT_FOUND, 'no more ticks', { reason: 'gone' });
    },
    async sum(requests) {
      let total = 0;
      let count = 0;
      for await (const { n } of requests) {
        probe.received.push(n);
        total += n;
        count++;
      }
      return { total, count };
    },
    async *echo(messages) {
      for await (const { text } of messages) yield { text: text.toUpperCase() };
    },
    async ping(request) {
      return request;
    },
    async *relay() {
      yield { n: 0 };
      await probe.downstream!.slow({ ms: 10_000 });
    },
    async slow({ ms }) {
      try {
        await sleep(ms);
        probe.slowOutcome = 'OK';
      } catch (error) {
        probe.slowOutcome = (error as RpcError).code;
        throw error;
      }
      return {};
    },
  };
}

async function setup(serverOptions?: ServerOptions, clientOptions?: Parameters<typeof createClient>[2]) {
  const probe = new Probe();
  const running = await serve(Feed, handlers(probe), serverOptions);
  const client = createClient(Feed, running.target, clientOptions);
  probe.downstream = createClient(Feed, running.target);
  return {
    probe,
    client,
    server: running.server,
    async close() {
      client.destroy();
      probe.downstream!.destroy();
      await running.server.close(0);
    },
  };
}

test('a server stream: the handler yields, the caller loops, in order, inside the call context', async () => {
  const { client, close } = await setup();
  try {
    const seen: number[] = [];
    let traceId = '';
    for await (const tick of client.ticks({ count: 500 }, { timeoutMs: 5000, traceId: 'trace-stream' })) {
      seen.push(tick.n);
      traceId = tick.traceId ?? '';
    }
    assert.equal(
      seen,
      Array.from({ length: 500 }, (_, n) => n),
    );
    assert.is(traceId, 'trace-stream');
  } finally {
    await close();
  }
});

test('flow control: a consumer that stops reading stops the generator at its yield, after one window', async () => {
  // Every message { n } has the same MessagePack size for n < 128: a window of 10 of them.
  const { client, probe, close } = await setup({}, { streamWindowBytes: 10 * protocol.packr.pack({ n: 0 }).length });
  try {
    const stream = client.forever({ from: 0 }, { timeoutMs: 5000 });
    const iterator = stream[Symbol.asyncIterator]();
    assert.is(((await iterator.next()).value as Tick).n, 0);
    // Wait for the producer to stop, then check where.
    let last = -1;
    await eventually('the producer to stop', async () => {
      const now = probe.produced;
      await new Promise((resolve) => setTimeout(resolve, 50));
      const stopped = now === last && now === probe.produced;
      last = now;
      return stopped;
    });
    assert.is(probe.produced, 10, 'exactly the window was produced');
    // Reading on grants credit back: half a window at a time.
    for (let i = 1; i <= 4; i++) assert.is(((await iterator.next()).value as Tick).n, i);
    await eventually('credit to be granted back', () => probe.produced === 15);
    await iterator.return!();
  } finally {
    await close();
  }
});

test('breaking out of the loop cancels the handler: its signal aborts and its finally runs', async () => {
  const { client, probe, server, close } = await setup();
  try {
    let n = 0;
    for await (const tick of client.forever({ from: 10 }, { timeoutMs: 5000 })) {
      n = tick.n;
      if (n === 12) break;
    }
    assert.is(n, 12);
    await eventually('the generator to be closed', () => probe.finallyRan === 1);
    assert.instance(probe.abortReason, RpcError);
    assert.is((probe.abortReason as RpcError).code, 'CANCELLED');
    await eventually('the stream to leave the server', () => server.stats().inFlight === 0);
  } finally {
    await close();
  }
});

test("the call's deadline ends the stream on both sides", async () => {
  const { client, probe, close } = await setup();
  try {
    const error = await rejection(
      (async () => {
        for await (const tick of client.ticks({ count: 1000, everyMs: 20 }, { timeoutMs: 150 })) void tick;
      })(),
    );
    assert.instance(error, RpcError);
    assert.is((error as RpcError).code, 'DEADLINE_EXCEEDED');
    // A generator parked at its yield past the deadline is closed too.
    const stream = client.forever({ from: 0 }, { timeoutMs: 1000 });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    await eventually('the generator to be closed at the deadline', () => probe.finallyRan === 1);
    assert.instance(probe.abortReason, RpcError);
    assert.is((probe.abortReason as RpcError).code, 'DEADLINE_EXCEEDED');
  } finally {
    await close();
  }
});

test("aborting the caller's signal cancels the stream", async () => {
  const { client, probe, close } = await setup();
  try {
    const controller = new AbortController();
    const seen: number[] = [];
    const error = await rejection(
      (async () => {
        for await (const tick of client.forever({ from: 0 }, { timeoutMs: 5000, signal: controller.signal })) {
          seen.push(tick.n);
          if (tick.n === 3) controller.abort();
        }
      })(),
    );
    assert.is((error as RpcError).code, 'CANCELLED');
    assert.ok(seen.length >= 4);
    await eventually('the generator to be closed', () => probe.finallyRan === 1);
  } finally {
    await close();
  }
});

test('a handler that throws ends the stream with its status, after the messages it yielded', async () => {
  const { client, close } = await setup();
  try {
    const seen: number[] = [];
    const error = await rejection(
      (async () => {
        for await (const tick of client.failing({ after: 3 }, { timeoutMs: 5000 })) seen.push(tick.n);
      })(),
    );
    assert.equal(seen, [0, 1, 2]);
    assert.instance(error, RpcError);
    assert.is((error as RpcError).code, 'NOT_FOUND');
    assert.is((error as RpcError).reason, 'gone');
  } finally {
    await close();
  }
});

test('a client stream: the handler reads an AsyncIterable, the caller awaits the reply', async () => {
  const { client, probe, close } = await setup({ streamWindowBytes: 4 });
  try {
    let sent = 0;
    async function* numbers() {
      for (let n = 1; n <= 100; n++) {
        sent++;
        yield { n };
      }
    }
    const reply = await client.sum(numbers(), { timeoutMs: 5000 });
    assert.equal(reply, { total: 5050, count: 100 });
    assert.equal(
      probe.received,
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    assert.is(sent, 100);
    // A plain iterable works too, and an empty one.
    assert.equal(await client.sum([{ n: 2 }, { n: 3 }]), { total: 5, count: 2 });
    assert.equal(await client.sum([]), { total: 0, count: 0 });
  } finally {
    await close();
  }
});

test('a bidirectional stream: send, read the answers, end', async () => {
  const { client, close } = await setup();
  try {
    const chat = client.echo({ timeoutMs: 5000 });
    await chat.send({ text: 'hello' });
    await chat.send({ text: 'world' });
    chat.end();
    const answers: string[] = [];
    for await (const answer of chat) answers.push(answer.text);
    assert.equal(answers, ['HELLO', 'WORLD']);
    const late = await rejection(chat.send({ text: 'late' }));
    assert.is((late as RpcError).code, 'FAILED_PRECONDITION');
  } finally {
    await close();
  }
});

test('a running stream holds a handler slot: with concurrency 1, a unary call waits for it', async () => {
  const { client, probe, close } = await setup({ concurrency: 1 });
  try {
    const stream = client.forever({ from: 0 }, { timeoutMs: 5000 });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    const blocked = await rejection(client.ping({ text: 'x' }, { timeoutMs: 200 }));
    assert.is((blocked as RpcError).code, 'DEADLINE_EXCEEDED');
    stream.cancel();
    await eventually('the stream to end', () => probe.finallyRan === 1);
    assert.equal(await client.ping({ text: 'x' }, { timeoutMs: 1000 }), { text: 'x' });
  } finally {
    await close();
  }
});

test('leaving a stream cancels the calls its handler made downstream', async () => {
  const { client, probe, close } = await setup();
  try {
    for await (const tick of client.relay({}, { timeoutMs: 20_000 })) {
      assert.is(tick.n, 0);
      break;
    }
    await eventually('the downstream call to be cancelled', () => probe.slowOutcome !== '');
    assert.is(probe.slowOutcome, 'CANCELLED');
  } finally {
    await close();
  }
});

test('streams on one connection share it fairly, and unary calls still get through', async () => {
  const { client, close } = await setup();
  try {
    const counts = new Array<number>(8).fill(0);
    let total = 0;
    let stop = false;
    const readers = counts.map(async (_, i) => {
      for await (const tick of client.forever({ from: 0 }, { timeoutMs: 20_000 })) {
        void tick;
        counts[i]!++;
        if (++total >= 40_000 || stop) break;
      }
    });
    // A unary call in the middle of eight streams that never wait for their producer.
    await eventually('the streams to flow', () => total > 1000);
    assert.equal(await client.ping({ text: 'between' }, { timeoutMs: 5000 }), { text: 'between' });
    await Promise.race(readers);
    stop = true;
    await Promise.all(readers);
    // Each stream got a fair share: none below a quarter of an even split.
    for (const count of counts) assert.ok(count > total / counts.length / 4, `counts ${counts.join(', ')}`);
  } finally {
    await close();
  }
});

test('calling a stream as a unary method is refused by name', async () => {
  const { client, close } = await setup();
  try {
    const error = await rejection(client.channel.call(Feed.methods.forever.path, { from: 0 }));
    assert.is((error as RpcError).code, 'UNIMPLEMENTED');
    assert.is((error as RpcError).reason, 'wrong_method_kind');
    assert.match((error as RpcError).message, /Feed\/forever is a server-stream method: call it as a stream/);
  } finally {
    await close();
  }
});

test('a producer past maxBufferedBytesPerConnection resumes once its frames are flushed, though the socket never blocked', async () => {
  // 4 KiB messages, 16 KiB of unsent answers allowed: one turn of yields passes the limit in the
  // writer before its flush; loopback takes the flush whole, so no 'drain' ever comes.
  const Big = defineService('Big', { blobs: serverStream<{ count: number }, { data: string }>() });
  const data = 'x'.repeat(4096);
  const running = await serve(
    Big,
    {
      async *blobs({ count }) {
        for (let i = 0; i < count; i++) yield { data };
      },
    },
    { maxBufferedBytesPerConnection: 16 * 1024 },
  );
  const client = createClient(Big, running.target);
  try {
    let received = 0;
    for await (const blob of client.blobs({ count: 200 }, { timeoutMs: 5000 }))
      if (blob.data.length === 4096) received++;
    assert.is(received, 200);
  } finally {
    client.destroy();
    await running.server.close(0);
  }
});

test.run();
