import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { context, defineService, method, withContext } from 'corpc';
import { Echo, echoHandlers } from '../services/echo/echo.ts';
import { delay } from './helpers/servers.ts';
import { scopedTest } from './helpers/scope.ts';

scopedTest('a downstream call inherits priorities and trace id, and a smaller deadline budget', async (t) => {
  const back = await t.serve(Echo, echoHandlers());
  const next = t.client(Echo, back.target);
  const front = await t.serve(Echo, echoHandlers(next));
  const client = t.client(Echo, front.target);
  const reply = await client.relay(
    { text: 'hop' },
    { timeoutMs: 3000, businessPriority: 5, userPriority: 77, traceId: 'trace-abc', metadata: { tenant: 't1' } },
  );
  assert.is(reply.text, 'hop');
  for (const seen of [reply.outer, reply.inner]) {
    assert.is(seen.businessPriority, 5);
    assert.is(seen.userPriority, 77);
    assert.is(seen.traceId, 'trace-abc');
    assert.equal(seen.metadata, { tenant: 't1' });
  }
  assert.ok(reply.outer.remainingMs <= 3000 && reply.outer.remainingMs > 2000, `outer ${reply.outer.remainingMs}`);
  // The inner hop got what was left of the outer budget, not a fresh default 500 ms.
  assert.ok(reply.inner.remainingMs <= reply.outer.remainingMs, `inner ${reply.inner.remainingMs}`);
  assert.ok(reply.inner.remainingMs > 1000, `inner ${reply.inner.remainingMs}`);
});

scopedTest('a call outside any request gets the default 500 ms budget; withContext sets another', async (t) => {
  const { target } = await t.serve(Echo, echoHandlers());
  const client = t.client(Echo, target);
  const plain = await client.inspect({});
  assert.ok(plain.remainingMs <= 500 && plain.remainingMs > 300, `${plain.remainingMs}`);
  const scoped = await withContext({ timeoutMs: 2000, businessPriority: 1, userPriority: 2 }, () => client.inspect({}));
  assert.ok(scoped.remainingMs <= 2000 && scoped.remainingMs > 1500, `${scoped.remainingMs}`);
  assert.is(scoped.businessPriority, 1);
  assert.is(scoped.userPriority, 2);
});

const Probe = defineService('Probe', {
  who: method<{ id: number; waitMs: number }, { id: number; traceId: string; userPriority: number }>(),
});

scopedTest('concurrent requests never see each other’s context', async (t) => {
  const { target } = await t.serve(Probe, {
    async who(request) {
      const before = context().traceId;
      await delay(request.waitMs);
      const after = context();
      assert.is(after.traceId, before);
      return { id: request.id, traceId: after.traceId, userPriority: after.userPriority };
    },
  });
  const client = t.client(Probe, target);
  const replies = await Promise.all(
    Array.from({ length: 200 }, (_, id) =>
      client.who({ id, waitMs: (id * 7) % 30 }, { traceId: `t-${id}`, userPriority: id % 128, timeoutMs: 5000 }),
    ),
  );
  for (const reply of replies) {
    assert.is(reply.traceId, `t-${reply.id}`);
    assert.is(reply.userPriority, reply.id % 128);
  }
});

test('context() outside a request throws a clear error', () => {
  assert.throws(() => context(), /outside a request/);
});

test.run();
