import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createClient } from 'corpc';
import { runLoad } from '../runtime/loadgen/engine.ts';
import { Echo, echoHandlers } from '../services/echo/echo.ts';
import { serve } from './helpers/servers.ts';

test('closed loop: every request sent is counted once, by outcome', async () => {
  const { server, target } = await serve(Echo, echoHandlers());
  const client = createClient(Echo, target, { timeoutMs: 5000 });
  try {
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
  } finally {
    await client.close();
    await server.close();
  }
});

test('closed loop: failures are counted by status name, still once each', async () => {
  const { server, target } = await serve(Echo, echoHandlers());
  const client = createClient(Echo, target, { timeoutMs: 5000 });
  try {
    // relay has no downstream configured here: every call fails with INTERNAL.
    let n = 0;
    const result = await runLoad((options) => (n++ % 2 === 0 ? client.echo({ text: 'x' }, options) : client.relay({ text: 'x' }, options)), {
      concurrency: 4,
      requests: 200,
    });
    const outcomes = result.measured.outcomes.toObject();
    assert.is(result.measured.sent, 200);
    assert.is((outcomes.OK ?? 0) + (outcomes.INTERNAL ?? 0), 200);
    assert.ok((outcomes.INTERNAL ?? 0) > 0);
    assert.is(result.measured.latency.count, outcomes.OK ?? 0);
  } finally {
    await client.close();
    await server.close();
  }
});

test.run();
