import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runLoad } from '../runtime/loadgen/engine.ts';
import { Echo, echoHandlers } from '../services/echo/echo.ts';
import { scopedTest } from './helpers/scope.ts';

scopedTest('closed loop: every request sent is counted once, by outcome', async (t) => {
  const { target } = await t.serve(Echo, echoHandlers());
  const client = t.client(Echo, target, { timeoutMs: 5000 });
  const result = await runLoad((options) => client.echo({ text: 'x' }, options), {
    concurrency: 8,
    requests: 500,
    warmupMs: 100,
  });
  assert.is(result.measured.sent, 500);
  assert.is(result.measured.outcomes.total, 500);
  assert.equal(result.measured.outcomes.toObject(), { OK: 500 });
  assert.is(result.measured.latency.count, 500);
  assert.is(result.warmup.outcomes.total, result.warmup.sent);
});

scopedTest('closed loop: failures are counted by status name, still once each', async (t) => {
  const { target } = await t.serve(Echo, echoHandlers());
  const client = t.client(Echo, target, { timeoutMs: 5000 });
  // relay has no downstream configured here: every call fails with INTERNAL.
  let n = 0;
  const result = await runLoad(
    (options) => (n++ % 2 === 0 ? client.echo({ text: 'x' }, options) : client.relay({ text: 'x' }, options)),
    {
      concurrency: 4,
      requests: 200,
    },
  );
  const outcomes = result.measured.outcomes.toObject();
  assert.is(result.measured.sent, 200);
  assert.is((outcomes.OK ?? 0) + (outcomes.INTERNAL ?? 0), 200);
  assert.ok((outcomes.INTERNAL ?? 0) > 0);
  assert.is(result.measured.latency.count, outcomes.OK ?? 0);
});

test.run();
