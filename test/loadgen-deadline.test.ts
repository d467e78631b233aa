import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createClient, sleep } from 'corpc';
import { runLoad } from '../runtime/loadgen/engine.ts';
import { Slow } from './fixtures/loadgen-service.ts';
import { serve } from './helpers/servers.ts';
import { scopedTest } from './helpers/scope.ts';

scopedTest('a deadline shorter than the service time yields DEADLINE_EXCEEDED counts', async (t) => {
  const { server, target } = await serve(Slow, {
    async wait(request) {
      await sleep(request.ms);
      return {};
    },
  });
  const client = createClient(Slow, target);
  t.defer(() => server.close(500));
  t.defer(() => client.close());
  const result = await runLoad((options) => client.wait({ ms: 200 }, options), {
    concurrency: 4,
    requests: 20,
    timeoutMs: 20,
  });
  assert.is(result.measured.sent, 20);
  assert.equal(result.measured.outcomes.toObject(), { DEADLINE_EXCEEDED: 20 });
  assert.is(result.measured.latency.count, 0);
});

test.run();
