import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HealthService, createClient } from 'corpc';
import { Toggle } from './fixtures/health-toggle-service.ts';
import { startCorpc } from './helpers/cli.ts';
import { eventually } from './helpers/eventually.ts';
import { killRuntime, startRuntime, FREE_PORTS } from './helpers/runtime.ts';

const FIXTURE = 'test/fixtures/health-toggle-service.ts';

test("/readyz follows the units' health: 503 while a worker says NOT_SERVING, 200 again when it serves", async () => {
  const runtime = await startRuntime([FIXTURE, '--workers', '1', ...FREE_PORTS]);
  const target = `127.0.0.1:${runtime.units.toggle}`;
  const toggle = createClient(Toggle, target);
  const health = createClient(HealthService, target);
  try {
    const ready = await runtime.admin('/readyz');
    assert.is(ready.status, 200);
    assert.equal(await ready.json(), { ready: true, draining: false, workers: 1, units: { toggle: 'SERVING' } });

    await toggle.set({ serving: false });
    assert.equal(await health.check({ service: '' }), { status: 'NOT_SERVING' }, 'the health service says it too');
    let answer: Response | undefined;
    await eventually('/readyz to answer 503', async () => (answer = await runtime.admin('/readyz')).status === 503);
    assert.equal(await answer!.json(), { ready: false, draining: false, workers: 1, units: { toggle: 'NOT_SERVING' } });

    await toggle.set({ serving: true });
    await eventually('/readyz to answer 200 again', async () => (await runtime.admin('/readyz')).status === 200);
  } finally {
    await toggle.close();
    await health.close();
    await killRuntime(runtime);
  }
});

test('a drain (SIGTERM) sends an open Watch NOT_SERVING, then ends it', async () => {
  const runtime = await startRuntime([FIXTURE, '--workers', '1', ...FREE_PORTS]);
  const watch = startCorpc([
    'call',
    `127.0.0.1:${runtime.units.toggle}`,
    'corpc.health.v1.Health/Watch',
    '-d',
    '{"service":""}',
    '--timeout',
    '60000',
  ]);
  try {
    assert.equal(JSON.parse(await watch.line()), { status: 'SERVING' });
    runtime.child.kill('SIGTERM');
    assert.equal(JSON.parse(await watch.line()), { status: 'NOT_SERVING' });
    const { code, stdout, stderr } = await watch.result;
    assert.is(code, 0, stderr);
    assert.is(stdout.trimEnd().split('\n').length, 2, 'nothing after the NOT_SERVING: the stream ended');
    assert.is(await runtime.exited(), 0);
  } finally {
    watch.kill();
    await killRuntime(runtime);
  }
});

test.run();
