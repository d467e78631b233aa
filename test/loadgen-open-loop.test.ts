import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runLoad } from '../runtime/loadgen/engine.ts';
import { Echo, echoHandlers } from '../services/echo/echo.ts';
import { scopedTest } from './helpers/scope.ts';

scopedTest('open loop: the arrival rate is honoured on an idle service', async (t) => {
  const { target } = await t.serve(Echo, echoHandlers());
  const client = t.client(Echo, target, { timeoutMs: 5000 });
  const rate = 200;
  const result = await runLoad((options) => client.echo({ text: 'x' }, options), {
    rate,
    durationMs: 1000,
    warmupMs: 200,
  });
  // Arrivals follow a schedule, not the answers: the count is the rate times the duration.
  assert.ok(Math.abs(result.measured.sent - rate) <= rate * 0.1, `sent ${result.measured.sent}`);
  assert.is(result.measured.outcomes.total, result.measured.sent);
  assert.is(result.mode, 'open');
  // The measured time spans the schedule (it ends at the last answer, however late that is),
  // and the rate reported is what was answered in it.
  assert.ok(result.elapsedMs >= 1000 - 1000 / rate, `elapsed ${result.elapsedMs} ms`);
  assert.is(result.requestsPerS, (result.measured.outcomes.total * 1000) / result.elapsedMs);
});

test.run();
