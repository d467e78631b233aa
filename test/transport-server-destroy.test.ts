import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type RpcError, type Server, defineService, method } from 'corpc';
import { scopedTest } from './helpers/scope.ts';

const Burn = defineService('Burn', { burn: method<Record<string, never>, Record<string, never>>() });

function burn(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

scopedTest('destroy() ends the calls still waiting for a turn: their handlers never start', async (t) => {
  let runs = 0;
  let server: Server | null = null;
  const serving = await t.serve(Burn, {
    async burn() {
      runs++;
      // The first handler spends the turn's budget: the calls read with it wait for later turns.
      if (runs === 1) server!.destroy();
      burn(6);
      return {};
    },
  });
  server = serving.server;
  const client = t.client(Burn, serving.target);
  // Sent before the connection is up: they go out together, and arrive in one read.
  const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => client.burn({}, { timeoutMs: 2000 })));
  assert.is(runs, 1, `${runs} handlers ran after destroy()`);
  // Every call ends, none with an answer (the connection was cut), none by its deadline.
  for (const outcome of outcomes) {
    assert.is(outcome.status, 'rejected');
    assert.is(
      ((outcome as PromiseRejectedResult).reason as RpcError).code,
      'UNAVAILABLE',
      String((outcome as PromiseRejectedResult).reason),
    );
  }
});

test.run();
