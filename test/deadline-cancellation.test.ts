import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RpcError, Status, context, createClient, defineService, method } from 'corpc';
import { protocol } from 'corpc/internal';
import { RawPeer } from './helpers/raw-peer.ts';
import { delay, rejection, serve } from './helpers/servers.ts';
import { scopedTest } from './helpers/scope.ts';

const Work = defineService('Work', {
  slow: method<{ ms: number }, { done: boolean }>(),
  watch: method<{ id: string }, { aborted: boolean }>(),
  count: method<{ id: string }, { ran: number }>(),
});

/** A Work server that records what its handlers saw. */
async function workServer(options?: { concurrency?: number }) {
  const ran = new Map<string, number>();
  const aborted = new Map<string, string>();
  const running = await serve(
    Work,
    {
      async slow(request) {
        await delay(request.ms);
        return { done: true };
      },
      async watch(request) {
        const signal = context().signal;
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        aborted.set(request.id, (signal.reason as RpcError).code);
        return { aborted: true };
      },
      async count(request) {
        ran.set(request.id, (ran.get(request.id) ?? 0) + 1);
        return { ran: ran.get(request.id)! };
      },
    },
    options,
  );
  return { ...running, ran, aborted };
}

scopedTest('the client fails a call with DEADLINE_EXCEEDED at its deadline when the server is slow', async (t) => {
  const { server, target } = await workServer();
  const client = createClient(Work, target);
  t.defer(() => server.close(0));
  t.defer(() => client.destroy());
  const started = performance.now();
  const error = (await rejection(client.slow({ ms: 2000 }, { timeoutMs: 100 }))) as RpcError;
  const took = performance.now() - started;
  assert.is(error.code, 'DEADLINE_EXCEEDED');
  assert.ok(took >= 95, `rejected after ${took} ms, before the deadline`);
  assert.ok(took < 1900, 'rejected at the deadline, not when the server answered');
});

scopedTest('the deadline passing aborts the handler’s signal on the server', async (t) => {
  const { server, target, aborted } = await workServer();
  const client = createClient(Work, target);
  t.defer(() => server.close(0));
  t.defer(() => client.destroy());
  const error = (await rejection(client.watch({ id: 'a' }, { timeoutMs: 150 }))) as RpcError;
  assert.is(error.code, 'DEADLINE_EXCEEDED');
  for (let i = 0; i < 100 && !aborted.has('a'); i++) await delay(10);
  // Either the server's own deadline fired or the client's CANCEL arrived first.
  assert.ok(['DEADLINE_EXCEEDED', 'CANCELLED'].includes(aborted.get('a') ?? ''), `saw ${aborted.get('a')}`);
});

scopedTest(
  'a result the handler returns after the deadline is not sent: the caller gets DEADLINE_EXCEEDED',
  async (t) => {
    const { server, target } = await workServer();
    // A raw peer, which enforces no deadline of its own: what it receives is the server's answer.
    const peer = await RawPeer.connect(Number(target.split(':')[1]));
    t.defer(() => server.close(0));
    t.defer(() => peer.socket.destroy());
    peer.preface();
    peer.write(peer.request(1, ['Work/slow', 30, 10, 5, 'late-result', null], { ms: 80 }));
    for (let i = 0; i < 200 && !peer.frameKinds().includes(protocol.FrameKind.ERROR); i++) await delay(10);
    assert.equal(peer.frameKinds(), [protocol.FrameKind.ERROR], 'one answer, an error');
    const answer = peer.received.subarray(protocol.PREFACE.length);
    const [status] = protocol.unpackAt(answer, 11, answer.length) as [number];
    assert.is(status, Status.DEADLINE_EXCEEDED);
  },
);

scopedTest('a CANCEL that arrives at the deadline is the deadline; one well before it is a cancel', async (t) => {
  const { server, target, aborted } = await workServer();
  const peer = await RawPeer.connect(Number(target.split(':')[1]));
  t.defer(() => server.close(0));
  t.defer(() => peer.socket.destroy());
  peer.preface();
  const cancel = (id: number) => peer.frame(protocol.FrameKind.CANCEL, id);
  // A client gives up at its deadline with a CANCEL that can beat the server's own timer there.
  // A 2 ms budget, cancelled in the same write: the server reads it inside the deadline's margin.
  peer.write(
    Buffer.concat([
      peer.request(1, ['Work/watch', 2, 10, 5, 'at-deadline', null], { id: 'at-deadline' }),
      cancel(1),
      peer.request(3, ['Work/watch', 10_000, 10, 5, 'early', null], { id: 'early' }),
      cancel(3),
    ]),
  );
  for (let i = 0; i < 200 && aborted.size < 2; i++) await delay(10);
  assert.is(aborted.get('at-deadline'), 'DEADLINE_EXCEEDED');
  assert.is(aborted.get('early'), 'CANCELLED');
});

scopedTest('cancelling a call (AbortSignal) reaches the server and aborts its handler', async (t) => {
  const { server, target, aborted } = await workServer();
  const client = createClient(Work, target);
  t.defer(() => server.close(0));
  t.defer(() => client.destroy());
  const controller = new AbortController();
  const call = client.watch({ id: 'b' }, { timeoutMs: 10_000, signal: controller.signal });
  while (server.stats().inFlight === 0) await delay(5);
  controller.abort();
  const error = (await rejection(call)) as RpcError;
  assert.is(error.code, 'CANCELLED');
  for (let i = 0; i < 200 && !aborted.has('b'); i++) await delay(10);
  assert.is(aborted.get('b'), 'CANCELLED');
  for (let i = 0; i < 200 && server.stats().inFlight > 0; i++) await delay(10);
  assert.is(server.stats().inFlight, 0);
});

scopedTest('a request whose deadline passes while queued is answered DEADLINE_EXCEEDED and never runs', async (t) => {
  const { server, target, ran } = await workServer({ concurrency: 1 });
  const client = createClient(Work, target);
  t.defer(() => server.close(0));
  t.defer(() => client.destroy());
  // The one handler slot is busy for 300 ms; the queued request's 100 ms budget runs out first.
  const blocker = client.slow({ ms: 300 }, { timeoutMs: 5000 });
  while (server.stats().inFlight === 0) await delay(5);
  const expired = rejection(client.count({ id: 'late' }, { timeoutMs: 100 }));
  assert.equal(await blocker, { done: true });
  assert.is(((await expired) as RpcError).code, 'DEADLINE_EXCEEDED');
  await delay(50);
  assert.is(ran.get('late'), undefined, 'the handler of an expired request never runs');
  assert.equal(await client.count({ id: 'fresh' }), { ran: 1 });
});

const Relay = defineService('Relay', {
  forward: method<{ id: string }, { aborted: boolean }>(),
});

scopedTest('cancelling an outer call cancels the calls its handler made downstream', async (t) => {
  const inner = await workServer();
  const innerClient = createClient(Work, inner.target);
  const outer = await serve(Relay, {
    async forward(request) {
      return innerClient.watch({ id: request.id }, { timeoutMs: 10_000 });
    },
  });
  const client = createClient(Relay, outer.target);
  t.defer(() => inner.server.close(0));
  t.defer(() => outer.server.close(0));
  t.defer(() => innerClient.destroy());
  t.defer(() => client.destroy());
  const controller = new AbortController();
  const call = client.forward({ id: 'chain' }, { timeoutMs: 10_000, signal: controller.signal });
  while (inner.server.stats().inFlight === 0) await delay(5);
  controller.abort();
  assert.is(((await rejection(call)) as RpcError).code, 'CANCELLED');
  for (let i = 0; i < 200 && !inner.aborted.has('chain'); i++) await delay(10);
  assert.is(inner.aborted.get('chain'), 'CANCELLED', 'the cancel travelled two hops');
});

scopedTest('a call made after the current request expired fails at once without being sent', async (t) => {
  const inner = await workServer();
  const innerClient = createClient(Work, inner.target);
  const outer = await serve(Relay, {
    async forward(request) {
      await delay(150);
      const error = (await rejection(innerClient.count({ id: request.id }))) as RpcError;
      throw error;
    },
  });
  const client = createClient(Relay, outer.target);
  t.defer(() => inner.server.close(0));
  t.defer(() => outer.server.close(0));
  t.defer(() => innerClient.destroy());
  t.defer(() => client.destroy());
  assert.is(((await rejection(client.forward({ id: 'x' }, { timeoutMs: 100 }))) as RpcError).code, 'DEADLINE_EXCEEDED');
  await delay(100);
  assert.is(inner.ran.get('x'), undefined);
});

test('status numbers and names follow gRPC', () => {
  assert.is(Status.DEADLINE_EXCEEDED, 4);
  assert.is(Status.RESOURCE_EXHAUSTED, 8);
  assert.is(Status.UNAVAILABLE, 14);
  assert.is(new RpcError(Status.UNAVAILABLE, 'x').code, 'UNAVAILABLE');
  assert.is(RpcError.from(new Error('secret')).code, 'INTERNAL');
  assert.not.match(RpcError.from(new Error('secret')).message, /secret/);
});

test.run();
