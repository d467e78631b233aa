import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createClient } from 'corpc';
import { Echo, echoHandlers } from '../services/echo/echo.ts';
import { fuzz } from './fuzz/attacks.ts';
import { FUZZ_SERVER_OPTIONS } from './fixtures/fuzz-server.ts';
import { serve } from './helpers/servers.ts';

test('hostile frames close only the offending connection, with a GOAWAY saying why; good clients keep being served', async () => {
  const { server, target, port } = await serve(Echo, echoHandlers(), FUZZ_SERVER_OPTIONS);
  const good = createClient(Echo, target);
  try {
    let checks = 0;
    const report = await fuzz(port, {
      runs: 400,
      seed: 8,
      checkEvery: 50,
      check: async () => {
        checks++;
        assert.equal(await good.echo({ text: `check ${checks}` }), { text: `check ${checks}` });
      },
    });
    assert.equal(report.findings, []);
    assert.is(report.executions, 400);
    assert.ok(report.closedWithGoaway > 0 && report.answered > 0, 'the attacks reached both the frame checks and the handlers');
    assert.ok(checks >= 8);
    // Nothing is left behind: every attacking connection is gone.
    for (let i = 0; i < 100 && server.stats().connections > 1; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.is(server.stats().connections, 1, 'only the good client is still connected');
  } finally {
    await good.close();
    await server.close();
  }
});

test.run();
