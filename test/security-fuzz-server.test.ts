import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Echo, echoHandlers } from '../services/echo/echo.ts';
import { fuzz } from './fuzz/attacks.ts';
import { FUZZ_SERVER_OPTIONS } from './fixtures/fuzz-server.ts';
import { scopedTest } from './helpers/scope.ts';

scopedTest(
  'hostile frames close only the offending connection, with a GOAWAY saying why; good clients keep being served',
  async (t) => {
    const { server, target, port } = await t.serve(Echo, echoHandlers(), FUZZ_SERVER_OPTIONS);
    const good = t.client(Echo, target);
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
    assert.ok(
      report.closedWithGoaway > 0 && report.answered > 0,
      'the attacks reached both the frame checks and the handlers',
    );
    assert.ok(checks >= 8);
    // Nothing is left behind: every attacking connection is gone.
    for (let i = 0; i < 100 && server.stats().connections > 1; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    assert.is(server.stats().connections, 1, 'only the good client is still connected');
  },
);

test.run();
