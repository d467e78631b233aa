import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RpcError, Status, createChannel, createClient, defineService, method } from 'corpc';
import { Echo, echoHandlers } from '../services/echo/echo.ts';
import { protocol } from 'corpc/internal';
import { eventually } from './helpers/eventually.ts';
import { RawPeer } from './helpers/raw-peer.ts';
import { delay, rejection, serve } from './helpers/servers.ts';
import { scopedTest } from './helpers/scope.ts';

const { FrameKind } = protocol;

const Slow = defineService('Slow', {
  wait: method<{ ms: number; tag: string }, { tag: string }>(),
  fail: method<{ kind: 'rpc' | 'plain' }, never>(),
  nothing: method<undefined, undefined>(),
});

const slowHandlers = {
  async wait(request: { ms: number; tag: string }) {
    await delay(request.ms);
    return { tag: request.tag };
  },
  async fail(request: { kind: 'rpc' | 'plain' }): Promise<never> {
    if (request.kind === 'rpc') throw new RpcError(Status.NOT_FOUND, 'no such account', { reason: 'account_missing' });
    throw new Error('database password is hunter2');
  },
  async nothing() {
    return undefined;
  },
};

scopedTest('a call makes a round trip over a real socket', async (t) => {
  const { target } = await t.serve(Echo, echoHandlers());
  const client = t.client(Echo, target);
  assert.equal(await client.echo({ text: 'hello' }), { text: 'hello' });
  assert.equal(await client.echo({ text: `é✓${'x'.repeat(100_000)}` }), { text: `é✓${'x'.repeat(100_000)}` });
});

scopedTest('undefined requests and responses travel as empty bodies', async (t) => {
  const { target } = await t.serve(Slow, slowHandlers);
  const client = t.client(Slow, target);
  assert.is(await client.nothing(undefined), undefined);
});

scopedTest('many calls share one connection and complete out of order', async (t) => {
  const { server, target } = await t.serve(Slow, slowHandlers);
  const client = t.client(Slow, target);
  const finished: string[] = [];
  const calls = [120, 10, 60].map((ms, i) =>
    client.wait({ ms, tag: `call-${i}` }).then((reply) => {
      finished.push(reply.tag);
      return reply.tag;
    }),
  );
  assert.equal(await Promise.all(calls), ['call-0', 'call-1', 'call-2']);
  assert.equal(finished, ['call-1', 'call-2', 'call-0']);
  assert.is(server.stats().connections, 1);
});

scopedTest('a thrown RpcError keeps its status and reason; anything else is INTERNAL with no internals', async (t) => {
  const { target } = await t.serve(Slow, slowHandlers);
  const client = t.client(Slow, target);
  const notFound = await rejection(client.fail({ kind: 'rpc' }));
  assert.instance(notFound, RpcError);
  assert.is((notFound as RpcError).code, 'NOT_FOUND');
  assert.is((notFound as RpcError).reason, 'account_missing');

  const internal = (await rejection(client.fail({ kind: 'plain' }))) as RpcError;
  assert.is(internal.status, Status.INTERNAL);
  assert.not.match(internal.message, /hunter2/);
  assert.not.match(internal.message, /at .*\.ts:\d+/);
  // The server is still serving after a handler error.
  assert.equal(await client.wait({ ms: 0, tag: 'after' }), { tag: 'after' });
});

scopedTest('an unknown method is answered UNIMPLEMENTED and the connection stays usable', async (t) => {
  const { target } = await t.serve(Echo, echoHandlers());
  const channel = t.channel(target);
  const error = (await rejection(channel.call('Echo/nope', { text: 'x' }))) as RpcError;
  assert.is(error.code, 'UNIMPLEMENTED');
  assert.match(error.message, /Echo\/nope/);
  assert.equal(await channel.call('Echo/echo', { text: 'still here' }), { text: 'still here' });
});

const LONG_PATH = `Paths/${'l'.repeat(40)}`;
/** Paths of one byte length, a non-ASCII one and a long one (str8 in the header). */
const Paths = defineService('Paths', {
  getA: method<undefined, string>(),
  getB: method<undefined, string>(),
  cafe: method<undefined, string>({ path: 'Paths/café' }),
  long: method<undefined, string>({ path: LONG_PATH }),
  replaced: method<undefined, string>({ path: 'Paths/\uFFFD' }),
});

scopedTest('each request reaches the method its header names, however the header was written', async (t) => {
  const handlers = {
    getA: () => 'getA',
    getB: () => 'getB',
    cafe: () => 'cafe',
    long: () => 'long',
    replaced: () => 'replaced',
  };
  const { target, port } = await t.serve(Paths, handlers);
  const channel = t.channel(target);
  // Headers the client writes by hand (read in place by the server)…
  for (const [path, name] of [
    ['Paths/getA', 'getA'],
    ['Paths/getB', 'getB'],
    ['Paths/café', 'cafe'],
    [LONG_PATH, 'long'],
  ]) {
    assert.is(await channel.call(path!, undefined), name, path);
  }
  // …and headers with metadata (packed and decoded by msgpackr).
  assert.is(await channel.call('Paths/getB', undefined, { metadata: { tenant: 't1' } }), 'getB');
  assert.is(await channel.call('Paths/café', undefined, { metadata: { tenant: 't1' } }), 'cafe');
  // A path of a known length that is not registered.
  const error = (await rejection(channel.call('Paths/getC', undefined))) as RpcError;
  assert.is(error.code, 'UNIMPLEMENTED');
  assert.match(error.message, /"Paths\/getC"/);
  // Bytes that are not UTF-8 name what they decode to (U+FFFD in their place), with or without
  // metadata, as when every header went through msgpackr.
  for (const metadata of [0xc0, 0x80]) {
    const peer = await RawPeer.connect(port);
    const method = [...Buffer.from('Paths/'), 0xff];
    const header = Buffer.from([0x96, 0xa0 | method.length, ...method, 0xcd, 0x13, 0x88, 0, 0, 0xa1, 0x74, metadata]);
    peer.preface();
    peer.write(peer.frame(FrameKind.REQUEST, 1, Buffer.concat([Buffer.from([0, header.length]), header])));
    await eventually('an answer', () => peer.frameKinds().length > 0);
    assert.equal(peer.frameKinds(), [FrameKind.RESPONSE], `metadata byte ${metadata}`);
    peer.destroy();
  }
});

scopedTest('a server with no listener yet: calls fail fast with UNAVAILABLE naming the address', async (t) => {
  const { server, port } = await serve(Echo, echoHandlers());
  await server.close();
  const client = createClient(Echo, `127.0.0.1:${port}`, { timeoutMs: 5000 });
  t.defer(() => client.destroy());
  const started = Date.now();
  const error = (await rejection(client.echo({ text: 'x' }))) as RpcError;
  assert.is(error.code, 'UNAVAILABLE');
  assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
  assert.ok(Date.now() - started < 2000, 'failed fast, not at the deadline');
  // While backing off, further calls fail at once without a new connect.
  const again = (await rejection(client.echo({ text: 'x' }))) as RpcError;
  assert.is(again.code, 'UNAVAILABLE');
});

scopedTest('handlers written as a class keep their this', async (t) => {
  class EchoService {
    private readonly prefix = 'class:';
    async echo(request: { text: string }) {
      return { text: this.prefix + request.text };
    }
    async inspect() {
      return { remainingMs: 0, businessPriority: 0, userPriority: 0, traceId: '', metadata: {} };
    }
    async relay(request: { text: string }) {
      return this.echo(request).then((reply) => ({ ...reply, outer: undefined!, inner: undefined! }));
    }
  }
  const { target } = await t.serve(Echo, new EchoService());
  const client = t.client(Echo, target);
  assert.equal(await client.echo({ text: 'x' }), { text: 'class:x' });
});

test('bad options are refused by name', () => {
  assert.throws(() => createChannel('127.0.0.1:1', { timeoutMs: -1 }), /timeoutMs must be an integer ≥ 1, got -1/);
  assert.throws(() => createChannel('nonsense'), /target "nonsense" is not an address/);
});

test.run();
