import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RpcError, Status, createClient } from 'corpc';
import { Probe } from './fixtures/runtime-probe.ts';
import { eventually } from './helpers/eventually.ts';
import { inFlight, killRuntime, metricSum, startRuntime, FREE_PORTS } from './helpers/runtime.ts';
import { rejection } from './helpers/servers.ts';
import { scopedTest } from './helpers/scope.ts';

scopedTest('a killed worker fails its calls with UNAVAILABLE (not at the deadline) and is replaced', async (t) => {
  const runtime = await startRuntime(
    ['test/fixtures/runtime-probe.ts', '--workers', '1', '--port', '0', '--http-port', '0', '--admin-port', '0'],
    {
      env: { CORPC_LOG_LEVEL: 'silent' },
    },
  );
  const target = `127.0.0.1:${runtime.units.probe}`;
  const client = createClient(Probe, target);
  t.defer(() => killRuntime(runtime));
  t.defer(() => client.destroy());
  const { pid } = await client.echo({ text: 'who' });
  const started = performance.now();
  const pending = client.sleep({ ms: 20_000 }, { timeoutMs: 30_000 });
  await eventually('the call to reach the worker', async () => (await inFlight(runtime)) === 1);
  process.kill(pid, 'SIGKILL');
  const error = await rejection(pending);
  assert.instance(error, RpcError);
  assert.is((error as RpcError).status, Status.UNAVAILABLE);
  assert.ok(performance.now() - started < 10_000, 'failed long before its deadline');

  // The supervisor starts a new worker; calls succeed again, from another process.
  let replacement = 0;
  for (let attempt = 0; attempt < 100 && replacement === 0; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const fresh = createClient(Probe, target);
    try {
      replacement = (await fresh.echo({ text: 'again' })).pid;
    } catch {
      // not up yet
    } finally {
      fresh.destroy();
    }
  }
  assert.ok(replacement !== 0 && replacement !== pid, `replacement pid ${replacement}`);
  const metrics = await (await runtime.admin('/metrics')).text();
  assert.is(metricSum(metrics, 'corpc_worker_restarts_total'), 1);
});

scopedTest('a worker that keeps crashing is reported as a crash loop, not restarted forever', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'corpc-crash-'));
  const config = join(dir, 'config.json');
  await writeFile(config, JSON.stringify({ restart: { initialBackoffMs: 10, maxRestarts: 2, windowMs: 60_000 } }));
  const runtime = await startRuntime(
    ['test/fixtures/runtime-probe.ts', '--config', config, '--workers', '1', ...FREE_PORTS],
    { env: { CORPC_LOG_LEVEL: 'error' } },
  );
  t.defer(() => rm(dir, { recursive: true, force: true }));
  t.defer(() => killRuntime(runtime));
  // maxRestarts 2: the third death within the window is a crash loop.
  const target = `127.0.0.1:${runtime.units.probe}`;
  for (let kills = 0; kills < 3; kills++) {
    let pid = 0;
    for (let attempt = 0; attempt < 200 && pid === 0; attempt++) {
      const client = createClient(Probe, target);
      try {
        pid = (await client.echo({ text: 'pid' })).pid;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        client.destroy();
      }
    }
    assert.ok(pid !== 0, `worker ${kills + 1} came up`);
    process.kill(pid, 'SIGKILL');
  }
  // With its only worker in a crash loop, the group reports it and stops (exit 1).
  assert.is(await runtime.exited(), 1);
  assert.match(runtime.output(), 'crash loop');
});

test.run();
