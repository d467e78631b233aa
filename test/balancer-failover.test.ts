import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createClient, type RpcError } from 'corpc';
import { rejection } from './helpers/servers.ts';
import { eventually } from './helpers/eventually.ts';
import { Where, serveWhere } from './helpers/where.ts';
import { scopedTest } from './helpers/scope.ts';

scopedTest(
  "when one endpoint's server closes, calls go to the others; when it comes back, it gets calls again",
  async (t) => {
    const a = await serveWhere('a');
    let b = await serveWhere('b');
    const client = t.client(Where, `static://127.0.0.1:${a.port},127.0.0.1:${b.port}`, {
      initialBackoffMs: 20,
      maxBackoffMs: 100,
    });
    t.defer(() => b.server.close());
    t.defer(() => a.server.close());
    await client.whoami({});
    await eventually('both endpoints ready', () => client.channel.endpoints().every((e) => e.state === 'ready'));

    await b.server.close();
    await eventually(
      'b taken out',
      () => client.channel.endpoints().find((e) => e.address.endsWith(`:${b.port}`))!.state !== 'ready',
    );
    const during = await Promise.all(Array.from({ length: 50 }, () => client.whoami({})));
    assert.ok(
      during.every((reply) => reply.server === 'a'),
      'every call went to a',
    );

    b = await serveWhere('b', '127.0.0.1', b.port);
    await eventually('b back', () => client.channel.endpoints().every((e) => e.state === 'ready'));
    const after = new Set<string>();
    await eventually('calls reach b again', async () => {
      after.add((await client.whoami({})).server);
      return after.has('b');
    });
  },
);

scopedTest('when every endpoint is down, calls fail fast with UNAVAILABLE naming the addresses', async (t) => {
  const a = await serveWhere('a');
  const b = await serveWhere('b');
  await a.server.close();
  await b.server.close();
  const client = createClient(Where, `static://127.0.0.1:${a.port},127.0.0.1:${b.port}`, { timeoutMs: 10_000 });
  t.defer(() => client.destroy());
  const started = Date.now();
  const error = (await rejection(client.whoami({}))) as RpcError;
  assert.is(error.code, 'UNAVAILABLE');
  assert.match(error.message, `127.0.0.1:${a.port}`);
  assert.match(error.message, `127.0.0.1:${b.port}`);
  assert.ok(Date.now() - started < 5000, 'failed long before the 10 s deadline');
  const again = (await rejection(client.whoami({}))) as RpcError;
  assert.is(again.code, 'UNAVAILABLE');
  assert.is(again.reason, 'unavailable');
});

scopedTest('an endpoint that goes away keeps the calls already in flight on the others', async (t) => {
  const a = await serveWhere('a');
  const b = await serveWhere('b');
  const client = t.client(Where, `static://127.0.0.1:${a.port},127.0.0.1:${b.port}`, { balancer: 'round-robin' });
  t.defer(() => a.server.close());
  await client.whoami({});
  await eventually('both endpoints ready', () => client.channel.endpoints().every((e) => e.state === 'ready'));
  const slow = [client.sleep({ ms: 200 }), client.sleep({ ms: 200 })];
  await eventually('both calls running', () => a.sleeping.count === 1 && b.sleeping.count === 1);
  const closing = b.server.close();
  const replies = await Promise.all(slow);
  assert.equal(replies.map((reply) => reply.server).sort(), ['a', 'b'], 'b finished what it had before closing');
  await closing;
});

test.run();
