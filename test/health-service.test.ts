import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HealthService, RpcError, createClient, createServer, type AdmissionPolicy } from 'corpc';
import { ADMIT_ALL } from 'corpc/internal';
import { Echo, echoHandlers } from '../services/echo/echo.ts';
import { eventually } from './helpers/eventually.ts';
import { rejection, serve } from './helpers/servers.ts';
import { Where, serveWhere } from './helpers/where.ts';

test('check: the server and each added service are SERVING; an unknown name is NOT_FOUND; set() changes a status', async () => {
  const { server, target } = await serve(Echo, echoHandlers());
  const health = createClient(HealthService, target);
  try {
    assert.equal(await health.check({ service: '' }), { status: 'SERVING' });
    assert.equal(await health.check({}), { status: 'SERVING' }, 'no name is the whole server');
    assert.equal(await health.check({ service: 'Echo' }), { status: 'SERVING' });
    const unknown = (await rejection(health.check({ service: 'NoSuch' }))) as RpcError;
    assert.instance(unknown, RpcError);
    assert.is(unknown.code, 'NOT_FOUND');
    assert.is(unknown.reason, 'unknown_service');

    server.health.set('Echo', 'NOT_SERVING');
    assert.equal(await health.check({ service: 'Echo' }), { status: 'NOT_SERVING' });
    assert.equal(await health.check({ service: '' }), { status: 'SERVING' }, 'one service does not change the server');
    server.health.set('batch.Jobs', 'SERVING');
    assert.equal(await health.check({ service: 'batch.Jobs' }), { status: 'SERVING' }, 'set() makes a name known');

    const bad = (await rejection(health.check({ service: 5 as unknown as string }))) as RpcError;
    assert.is(bad.code, 'INVALID_ARGUMENT');
    assert.throws(
      () => server.health.set('Echo', 'DOWN' as 'SERVING'),
      /status must be "SERVING" or "NOT_SERVING", got "DOWN"/,
    );
  } finally {
    await health.close();
    await server.close();
  }
});

/** Reads a Watch stream message by message: `next()` is the next status the server sent. */
function reader(stream: AsyncIterable<{ status: string }>): { next(): Promise<string>; end(): Promise<boolean> } {
  const iterator = stream[Symbol.asyncIterator]();
  return {
    async next() {
      const step = await iterator.next();
      if (step.done === true) throw new Error('the Watch stream ended');
      return step.value.status;
    },
    /** True once the stream has ended without a message more. */
    async end() {
      return (await iterator.next()).done === true;
    },
  };
}

test('watch: a stream of the status, sent at once, then each change; an unknown name is SERVICE_UNKNOWN until it is set', async () => {
  const { server, target } = await serve(Echo, echoHandlers());
  const health = createClient(HealthService, target);
  try {
    const echo = reader(health.watch({ service: 'Echo' }, { timeoutMs: 30_000 }));
    assert.is(await echo.next(), 'SERVING', 'the current status at once');
    server.health.set('Echo', 'NOT_SERVING');
    assert.is(await echo.next(), 'NOT_SERVING');
    server.health.set('other.Service', 'NOT_SERVING');
    server.health.set('Echo', 'NOT_SERVING');
    server.health.set('Echo', 'SERVING');
    assert.is(await echo.next(), 'SERVING', "another name's change and a set to the same status send nothing");

    const whole = reader(health.watch({}, { timeoutMs: 30_000 }));
    assert.is(await whole.next(), 'SERVING', 'no name is the whole server');

    const later = reader(health.watch({ service: 'later.Service' }, { timeoutMs: 30_000 }));
    assert.is(await later.next(), 'SERVICE_UNKNOWN');
    server.health.set('later.Service', 'SERVING');
    assert.is(await later.next(), 'SERVING', 'the stream stayed open and says when the name appears');

    const bad = (await rejection(reader(health.watch({ service: 5 as unknown as string })).next())) as RpcError;
    assert.is(bad.code, 'INVALID_ARGUMENT');
  } finally {
    health.channel.destroy(); // its Watches are still open: close() would wait for their deadlines
    await server.close();
  }
});

test('a drain makes everything NOT_SERVING at its start: each Watch sends it, then its stream ends without waiting for the grace', async () => {
  const { server, target } = await serve(Echo, echoHandlers());
  const health = createClient(HealthService, target);
  const changes: string[] = [];
  server.health.subscribe((service, status) => changes.push(`${service || '(server)'}=${status}`));
  try {
    const whole = reader(health.watch({ service: '' }, { timeoutMs: 30_000 }));
    const echo = reader(health.watch({ service: 'Echo' }, { timeoutMs: 30_000 }));
    const unknown = reader(health.watch({ service: 'never.Set' }, { timeoutMs: 30_000 }));
    assert.is(await whole.next(), 'SERVING');
    assert.is(await echo.next(), 'SERVING');
    assert.is(await unknown.next(), 'SERVICE_UNKNOWN');
    // A grace longer than the test: were the streams ended by it, they would fail with UNAVAILABLE (server_closing).
    const closing = server.close(60_000);
    assert.is(server.health.get(''), 'NOT_SERVING', 'NOT_SERVING as soon as close() is called');
    for (const watch of [whole, echo, unknown]) {
      assert.is(await watch.next(), 'NOT_SERVING');
      assert.ok(await watch.end(), 'then the stream ends, without an error');
    }
    server.health.set('Echo', 'SERVING');
    assert.is(server.health.get('Echo'), 'NOT_SERVING', 'a drain is terminal');
    await closing;
    assert.is(server.health.openWatches, 0);
    assert.ok(changes.includes('(server)=NOT_SERVING') && changes.includes('Echo=NOT_SERVING'), changes.join(', '));
  } finally {
    await health.close();
    await server.close();
  }
});

test('a drain ends every Watch even when no status changes: all NOT_SERVING already', async () => {
  const { server, target } = await serve(Echo, echoHandlers());
  const health = createClient(HealthService, target);
  try {
    for (const service of Object.keys(server.health.all())) server.health.set(service, 'NOT_SERVING');
    const whole = reader(health.watch({ service: '' }, { timeoutMs: 30_000 }));
    const unknown = reader(health.watch({ service: 'never.Set' }, { timeoutMs: 30_000 }));
    assert.is(await whole.next(), 'NOT_SERVING');
    assert.is(await unknown.next(), 'SERVICE_UNKNOWN');
    const closing = server.close(60_000);
    assert.ok(await whole.end(), 'NOT_SERVING was sent already: the stream just ends');
    assert.is(await unknown.next(), 'NOT_SERVING');
    assert.ok(await unknown.end());
    await closing;
  } finally {
    await health.close();
    await server.close();
  }
});

test('a caller leaving its Watch (break, cancel, deadline) ends it on the server: no watch is left behind', async () => {
  const { server, target } = await serve(Echo, echoHandlers());
  const health = createClient(HealthService, target);
  try {
    for (let i = 0; i < 50; i++) {
      for await (const { status } of health.watch({ service: i % 2 === 0 ? '' : 'unknown' }, { timeoutMs: 30_000 })) {
        assert.ok(status === 'SERVING' || status === 'SERVICE_UNKNOWN');
        break;
      }
    }
    const cancelled = health.watch({ service: '' }, { timeoutMs: 30_000 });
    const open = reader(cancelled);
    assert.is(await open.next(), 'SERVING');
    const short = reader(health.watch({ service: '' }, { timeoutMs: 300 }));
    assert.is(await short.next(), 'SERVING');
    assert.ok(server.health.openWatches > 0);
    cancelled.cancel();
    assert.is(((await rejection(short.next())) as RpcError).code, 'DEADLINE_EXCEEDED');
    await eventually(
      'every watch gone, and its handler',
      () => server.health.openWatches === 0 && server.stats().inFlight === 0,
    );
  } finally {
    await health.close();
    await server.close();
  }
});

test("a server that is not listening yet is NOT_SERVING; one that drains leaves its clients' rotation", async () => {
  const idle = createServer().addService(Echo, echoHandlers());
  assert.is(idle.health.get(''), 'NOT_SERVING');
  assert.is(idle.health.get('Echo'), 'SERVING');
  assert.equal(idle.health.all(), { '': 'NOT_SERVING', 'corpc.health.v1.Health': 'SERVING', Echo: 'SERVING' });

  const a = await serveWhere('a');
  const b = await serveWhere('b');
  const client = createClient(Where, `static://127.0.0.1:${a.port},127.0.0.1:${b.port}`, {
    initialBackoffMs: 20,
    maxBackoffMs: 100,
  });
  try {
    await eventually('both endpoints ready', async () => {
      await client.whoami({});
      return client.channel.endpoints().every((e) => e.state === 'ready');
    });
    // The server's GOAWAY at the start of its drain is the client's signal: no health poll needed.
    const closing = b.server.close(5000);
    await eventually(
      'b out of rotation',
      () => client.channel.endpoints().find((e) => e.address.endsWith(`:${b.port}`))!.state !== 'ready',
    );
    const replies = await Promise.all(Array.from({ length: 20 }, () => client.whoami({})));
    assert.ok(
      replies.every((reply) => reply.server === 'a'),
      'every call went to a',
    );
    await closing;
  } finally {
    await client.close();
    await a.server.close();
    await b.server.close();
  }
});

test('with healthCheck, a client leaves out an endpoint whose server says NOT_SERVING, and takes it back when it serves', async () => {
  const a = await serveWhere('a');
  const b = await serveWhere('b');
  const client = createClient(Where, `static://127.0.0.1:${a.port},127.0.0.1:${b.port}`, { healthCheck: true });
  const endpoint = (tag: typeof a) => client.channel.endpoints().find((e) => e.address.endsWith(`:${tag.port}`))!;
  const servers = async (calls: number): Promise<Set<string>> =>
    new Set((await Promise.all(Array.from({ length: calls }, () => client.whoami({})))).map((reply) => reply.server));
  try {
    await eventually('both endpoints ready', async () => {
      await client.whoami({});
      return client.channel.endpoints().every((e) => e.state === 'ready');
    });
    assert.equal(await servers(40), new Set(['a', 'b']));

    b.server.health.set('', 'NOT_SERVING');
    await eventually('b out of rotation', () => !endpoint(b).serving);
    assert.is(endpoint(b).state, 'ready', 'still connected: only left out');
    assert.equal(await servers(40), new Set(['a']));

    a.server.health.set('', 'NOT_SERVING');
    await eventually('a out too', () => !endpoint(a).serving);
    assert.equal(await servers(40), new Set(['a', 'b']), 'none serving: calls still go to both');

    a.server.health.set('', 'SERVING');
    b.server.health.set('', 'SERVING');
    await eventually('both back', () => endpoint(a).serving && endpoint(b).serving);
    assert.equal(await servers(40), new Set(['a', 'b']));
  } finally {
    // The open Watches are cancelled: closing does not wait for them.
    const closedAt = Date.now();
    await client.close();
    assert.ok(Date.now() - closedAt < 5000, 'close() did not wait for the watches');
    await a.server.close();
    await b.server.close();
  }
});

test('with healthCheck, a Watch that ended is opened again: a drained server is out, its restart back in', async () => {
  const a = await serveWhere('a');
  let b = await serveWhere('b');
  const client = createClient(Where, `static://127.0.0.1:${a.port},127.0.0.1:${b.port}`, {
    healthCheck: true,
    initialBackoffMs: 20,
    maxBackoffMs: 100,
  });
  const endpoint = () => client.channel.endpoints().find((e) => e.address.endsWith(`:${b.port}`))!;
  try {
    await eventually('both endpoints ready', async () => {
      await client.whoami({});
      return client.channel.endpoints().every((e) => e.state === 'ready');
    });
    await eventually("b's watch open", () => b.server.health.openWatches === 1);
    const before = client.channel.stats();
    // The drain's NOT_SERVING reaches the client before the end of the stream.
    await b.server.close(60_000);
    assert.not.ok(endpoint().serving, 'NOT_SERVING, as the drain said');
    b = await serveWhere('b2', '127.0.0.1', b.port);
    await eventually('the watch reopened on the new server', () => b.server.health.openWatches === 1);
    await eventually('b back in rotation', () => endpoint().serving && endpoint().state === 'ready');
    const after = client.channel.stats();
    assert.equal([after.ok, after.failed], [before.ok, before.failed], "the watches are not the channel's calls");
    const replies = new Set(
      (await Promise.all(Array.from({ length: 40 }, () => client.whoami({})))).map((r) => r.server),
    );
    assert.equal(replies, new Set(['a', 'b2']));
  } finally {
    await client.close();
    await a.server.close();
    await b.server.close();
  }
});

test('with healthCheck, a Watch that keeps failing is opened again after a pause that doubles (about 1 s, then 2 s)', async () => {
  // The server sheds every Watch (compound level 0: the health client's top priority) and
  // serves the rest; it notes when each Watch arrived.
  const opens: number[] = [];
  const shedsWatches: AdmissionPolicy = {
    name: 'sheds-watches',
    level: ADMIT_ALL,
    advertisedLevel: ADMIT_ALL,
    overloaded: false,
    admit: (level) => level !== 0 || opens.push(performance.now()) < 0,
    dequeue: () => true,
    onWindow: () => undefined,
  };
  const { server, target } = await serve(Echo, echoHandlers(), { admission: { policy: shedsWatches } });
  const client = createClient(Echo, target, { healthCheck: true });
  try {
    await client.echo({ text: 'hi' });
    await eventually('three Watches', () => opens.length >= 3, 400); // 8 s
    const [first, second] = [opens[1]! - opens[0]!, opens[2]! - opens[1]!];
    // Pauses of 1 s and 2 s, each ±20 % (timers fire late on a busy machine, never early).
    assert.ok(first >= 790, `first pause ${first.toFixed(0)} ms`);
    assert.ok(second >= 1590, `second pause ${second.toFixed(0)} ms: doubled`);
    assert.ok(client.channel.endpoints()[0]!.serving, 'a Watch that fails does not take the endpoint out');
  } finally {
    await client.close();
    await server.close();
  }
});

test.run();
