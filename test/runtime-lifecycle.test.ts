import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createClient } from 'corpc';
import { Probe } from './fixtures/runtime-probe.ts';
import { eventually } from './helpers/eventually.ts';
import { inFlight, killRuntime, metricSum, startRuntime, FREE_PORTS } from './helpers/runtime.ts';
import { scopedTest } from './helpers/scope.ts';

const MODULE = 'test/fixtures/runtime-probe.ts';

/** Every line of Prometheus text is a comment, blank, or `name{labels} value`. */
function assertPrometheusText(text: string): void {
  const sample =
    /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+]?(\d+(\.\d+)?([eE][-+]?\d+)?|NaN|\+Inf|-Inf)$/;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    assert.ok(sample.test(line), `not a Prometheus sample line: ${line}`);
  }
}

scopedTest(
  'starts two workers, serves calls, exposes health, readiness and metrics that count the calls, and drains on SIGTERM',
  async (t) => {
    const runtime = await startRuntime([MODULE, '--workers', '2', ...FREE_PORTS]);
    const client = createClient(Probe, `127.0.0.1:${runtime.units.probe}`, { connectionsPerEndpoint: 4 });
    t.defer(() => killRuntime(runtime));
    t.defer(() => client.destroy());
    assert.is((await runtime.admin('/healthz')).status, 200);
    const ready = await runtime.admin('/readyz');
    assert.is(ready.status, 200);
    assert.equal(await ready.json(), { ready: true, draining: false, workers: 2, units: { probe: 'SERVING' } });

    for (let i = 0; i < 7; i++) assert.is((await client.echo({ text: `n${i}` })).text, `n${i}`);
    for (let i = 0; i < 3; i++) await client.fail({ status: 9 }).catch(() => undefined); // FAILED_PRECONDITION
    const counted = [];
    for await (const { n } of client.count({ to: 4 })) counted.push(n);
    assert.is(counted.length, 4);
    const metrics = await runtime.admin('/metrics');
    assert.is(metrics.status, 200);
    const text = await metrics.text();
    assertPrometheusText(text);
    assert.is(metricSum(text, 'corpc_requests_total', { method: 'Probe/Echo', code: 'OK' }), 7);
    assert.is(metricSum(text, 'corpc_requests_total', { method: 'Probe/Fail', code: 'FAILED_PRECONDITION' }), 3);
    assert.is(metricSum(text, 'corpc_requests_total', { method: 'Probe/Count', code: 'OK' }), 1, 'a stream that ended');
    // Each handler run is timed once, whatever its outcome.
    assert.is(metricSum(text, 'corpc_request_duration_seconds_count', { method: 'Probe/Echo' }), 7);
    assert.is(metricSum(text, 'corpc_request_duration_seconds_count', { method: 'Probe/Fail' }), 3);
    assert.is(metricSum(text, 'corpc_request_duration_seconds_count', { method: 'Probe/Count' }), 1);
    assert.ok(/^corpc_admission_level\{[^}]*worker="1"/m.test(text), 'admission level per worker');
    assert.ok(/^corpc_admission_level\{[^}]*worker="2"/m.test(text), 'admission level per worker');
    assert.ok(/^nodejs_eventloop_lag_seconds/m.test(text), 'event-loop delay');
    assert.ok(/^corpc_workers\{worker="supervisor"\} 2$/m.test(text), 'supervisor metrics');

    // Calls in flight when SIGTERM arrives finish; then the group exits 0.
    const sleeping = Array.from({ length: 6 }, () => client.sleep({ ms: 400 }, { timeoutMs: 5000 }));
    await eventually('the 6 calls to reach the workers', async () => (await inFlight(runtime)) === 6);
    runtime.child.kill('SIGTERM');
    const settled = await Promise.allSettled(sleeping);
    assert.equal(
      settled.map((s) => s.status),
      settled.map(() => 'fulfilled'),
      JSON.stringify(settled.filter((s) => s.status === 'rejected')),
    );
    assert.is(await runtime.exited(), 0);
  },
);

scopedTest(
  "/metrics carries each worker's admission controller: level gauges, arrivals, rejections by reason, queuing time",
  async (t) => {
    // One worker, one handler slot and a queue of one: of five concurrent calls, one runs, one
    // waits, three are refused queue_full. Admission windows of 100 ms publish them quickly.
    const runtime = await startRuntime([MODULE, '--workers', '1', ...FREE_PORTS], {
      env: {
        CORPC_SERVICE_PROBE_MAX_CONCURRENCY: '1',
        CORPC_SERVICE_PROBE_MAX_QUEUE_LENGTH: '1',
        CORPC_ADMISSION_WINDOW_MS: '100',
      },
    });
    // No retries: each refused call reaches the server once.
    const client = createClient(Probe, `127.0.0.1:${runtime.units.probe}`, { maxRetries: 0 });
    t.defer(() => killRuntime(runtime));
    t.defer(() => client.destroy());
    await client.echo({ text: 'connect' });
    const settled = await Promise.allSettled(
      Array.from({ length: 5 }, () => client.sleep({ ms: 200 }, { timeoutMs: 5000 })),
    );
    const refused = settled
      .filter((s) => s.status === 'rejected')
      .map((s) => (s as PromiseRejectedResult).reason as { reason?: string });
    assert.equal(
      refused.map((error) => error.reason),
      ['queue_full', 'queue_full', 'queue_full'],
    );

    // The windows that saw them close within 100 ms; poll until the scrape shows them.
    let text = '';
    await eventually('the windows to be scraped', async () => {
      text = await (await runtime.admin('/metrics')).text();
      return metricSum(text, 'corpc_admission_arrivals_total', { method: 'Probe/Sleep' }) === 5;
    });
    assertPrometheusText(text);
    assert.is(
      metricSum(text, 'corpc_admission_arrivals_total', { unit: 'probe', method: 'Probe/Sleep', worker: '1' }),
      5,
    );
    assert.is(
      metricSum(text, 'corpc_admission_rejections_total', { unit: 'probe', reason: 'queue_full', worker: '1' }),
      3,
    );
    assert.is(metricSum(text, 'corpc_admission_rejections_total', { reason: 'admission_level' }), 0);
    assert.is(metricSum(text, 'corpc_admission_method_rejections_total', { method: 'Probe/Sleep' }), 3);
    assert.is(metricSum(text, 'corpc_requests_total', { method: 'Probe/Sleep', code: 'OK' }), 2);
    // The admission level gauge and its parts (B, U) agree.
    const level = metricSum(text, 'corpc_admission_level', { unit: 'probe', worker: '1' });
    const business = metricSum(text, 'corpc_admission_business_level', { unit: 'probe' });
    const user = metricSum(text, 'corpc_admission_user_level', { unit: 'probe' });
    assert.ok(level >= 0 && level <= 8191, `admission level ${level}`);
    assert.is(level, business * 128 + user);
    for (const name of [
      'corpc_admission_queuing_avg_seconds',
      'corpc_admission_queuing_p99_seconds',
      'corpc_admission_event_loop_delay_seconds',
      'corpc_admission_overloaded',
    ]) {
      assert.ok(new RegExp(`^${name}\\{unit="probe",worker="1"\\} `, 'm').test(text), `${name} for the unit`);
    }
    assert.ok(/^corpc_resolver_cache_hits_total\{worker="1"\} \d+$/m.test(text), 'resolver counters');
  },
);

scopedTest('readiness is false while draining', async (t) => {
  const runtime = await startRuntime([MODULE, '--workers', '1', ...FREE_PORTS]);
  const client = createClient(Probe, `127.0.0.1:${runtime.units.probe}`);
  t.defer(() => killRuntime(runtime));
  t.defer(() => client.destroy());
  const slow = client.sleep({ ms: 600 }, { timeoutMs: 5000 });
  await eventually('the call to reach the worker', async () => (await inFlight(runtime)) === 1);
  runtime.child.kill('SIGTERM');
  let ready: Response | undefined;
  await eventually('/readyz to answer 503', async () => (ready = await runtime.admin('/readyz')).status === 503);
  assert.is(((await ready!.json()) as { draining: boolean }).draining, true);
  assert.is((await runtime.admin('/healthz')).status, 200);
  await slow;
  assert.is(await runtime.exited(), 0);
});

test.run();
