import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ADMISSION_WINDOW_CHANNEL,
  RpcError,
  Status,
  createChannel,
  createServer,
  defineService,
  method,
  type AdmissionMetrics,
  type Channel,
} from 'corpc';
import { ADMIT_ALL, businessOf } from 'corpc/internal';
import { fileURLToPath } from 'node:url';
import { CpuBound, Light } from './helpers/cpu-bound-server.ts';
import { openLoop } from './helpers/open-loop.ts';
import { delay, rejection, serve, spawnTs, stopChild, waitForLine } from './helpers/servers.ts';
import { scopedTest } from './helpers/scope.ts';

const Work = defineService('Work', {
  /** Holds a handler slot for `ms`: capacity = concurrency / ms. */
  sleep: method<{ ms: number }, { ok: true }>(),
});

const handlers = {
  async sleep({ ms }: { ms: number }) {
    await delay(ms);
    return { ok: true as const };
  },
};

function windows(): { seen: AdmissionMetrics[]; stop: () => void } {
  const seen: AdmissionMetrics[] = [];
  const listener = (message: unknown): void => void seen.push(message as AdmissionMetrics);
  subscribe(ADMISSION_WINDOW_CHANNEL, listener);
  return { seen, stop: () => unsubscribe(ADMISSION_WINDOW_CHANNEL, listener) };
}

function reasonOf(result: PromiseSettledResult<unknown>): string {
  if (result.status === 'fulfilled') return 'ok';
  return result.reason instanceof RpcError ? (result.reason.reason ?? result.reason.code) : 'other';
}

scopedTest('an overloaded callee sheds the lowest priorities first, and its callers stop sending them', async (t) => {
  // Capacity: 2 slots × 20 ms = 100 calls/s; offered: 300/s, a third at business priority 1.
  const { server, target } = await t.serve(Work, handlers, { concurrency: 2, admission: { windowMs: 100 } });
  const channel = t.channel(target, { maxRetries: 0 });
  const results = await openLoop(1500, 10, 3, (i) =>
    channel.call(Work.methods.sleep, { ms: 20 }, { businessPriority: i % 3 === 0 ? 1 : 10, timeoutMs: 1000 }),
  );
  const ok = [0, 0];
  const total = [0, 0];
  const reasons = new Set<string>();
  results.forEach((result, i) => {
    const high = i % 3 === 0 ? 0 : 1;
    total[high]!++;
    if (result.status === 'fulfilled') ok[high]!++;
    else reasons.add(reasonOf(result));
  });
  const level = server.admission.policy.level;
  assert.ok(level < ADMIT_ALL, 'the callee lowered its level');
  assert.ok(businessOf(level) >= 1, `business priority 1 still admitted (level ${level})`);
  assert.ok(ok[0]! / total[0]! > ok[1]! / total[1]!, `high ${ok[0]}/${total[0]} vs low ${ok[1]}/${total[1]}`);
  assert.ok(reasons.has('admission_level'), [...reasons].join());
  // The caller learned the level: low-priority calls now fail without being sent, but for one
  // probe (per 100 ms) that goes out to learn whether the callee has room again.
  const errors = await Promise.all(
    Array.from({ length: 5 }, () => rejection(channel.call(Work.methods.sleep, { ms: 1 }, { businessPriority: 63 }))),
  );
  for (const error of errors) {
    assert.instance(error, RpcError);
    assert.is((error as RpcError).status, Status.RESOURCE_EXHAUSTED);
  }
  assert.ok(
    errors.filter((error) => (error as RpcError).reason === 'local_admission').length >= 4,
    errors.map((e) => (e as RpcError).reason).join(),
  );
  // The channel counted every outcome, on the side that decided it.
  const stats = channel.stats();
  const count = (side: string, reason: string): number =>
    stats.failed
      .filter((f) => f.side === side && f.code === 'RESOURCE_EXHAUSTED' && f.reason === reason)
      .reduce((n, f) => n + f.count, 0);
  const counted = (reason: string): number =>
    results.filter((r) => reasonOf(r) === reason).length +
    errors.filter((e) => (e as RpcError).reason === reason).length;
  assert.is(stats.ok, ok[0]! + ok[1]!);
  assert.is(count('server', 'admission_level'), counted('admission_level'));
  assert.is(count('client', 'local_admission'), counted('local_admission'));
  assert.ok(stats.admissionLevel < ADMIT_ALL, `the level held by the callee (${stats.admissionLevel})`);
});

/** Starts the CPU-bound server in its own process (capacity ≈ 1000 ms / 8 ms = 125 calls/s) and a channel to it. */
async function cpuBound(): Promise<{ channel: Channel; close(): Promise<void> }> {
  const child = spawnTs(fileURLToPath(new URL('./helpers/cpu-bound-server.ts', import.meta.url)));
  const channel = createChannel(`127.0.0.1:${(await waitForLine(child, /^port (\d+)$/))[1]}`, { maxRetries: 0 });
  return {
    channel,
    close: async () => {
      await channel.close();
      await stopChild(child);
    },
  };
}

const burn = (channel: Channel, businessPriority: number): Promise<unknown> =>
  channel.call(CpuBound.methods.burn, { ms: 8 }, { businessPriority, timeoutMs: 500 });

function successRate(results: readonly PromiseSettledResult<unknown>[], pick: (i: number) => boolean): number {
  const picked = results.filter((_, i) => pick(i));
  return picked.filter((r) => r.status === 'fulfilled').length / Math.max(1, picked.length);
}

scopedTest(
  'a CPU-bound worker at 3x sheds the lowest business priority first and keeps priority 0 served; at 0.5x after, it sheds nothing',
  async (t) => {
    // No slot ever queues (1,024 of them): the event loop is what saturates.
    const { channel, close } = await cpuBound();
    t.defer(() => close());
    // 400 calls/s: a fifth at business priority 0 (80/s, within the capacity), the rest at 40.
    const overload = await openLoop(2000, 10, 4, (i) => burn(channel, i % 5 === 0 ? 0 : 40));
    const top = successRate(overload, (i) => i % 5 === 0);
    const low = successRate(overload, (i) => i % 5 !== 0);
    assert.ok(top >= 0.9, `business priority 0: ${(top * 100).toFixed(1)} % served`);
    assert.ok(low < top, `business priority 40 ${(low * 100).toFixed(1)} % vs 0 ${(top * 100).toFixed(1)} %`);
    const lowFailures = overload.filter((r, i) => i % 5 !== 0 && r.status === 'rejected').map(reasonOf);
    assert.ok(
      lowFailures.filter((reason) => reason === 'local_admission' || reason === 'admission_level').length >
        lowFailures.length / 2,
      lowFailures.slice(0, 20).join(),
    );
    // Half the capacity, the same mix: after a second for the level to come back, nothing is shed.
    const calm = await openLoop(3000, 40, 2, (i) => burn(channel, i % 5 === 0 ? 0 : 40));
    const late = calm.slice(calm.length / 3);
    assert.equal(late.filter((r) => r.status === 'rejected').map(reasonOf), []);
  },
);

scopedTest(
  'a caller whose only answers are priority 0 still gets its lower priorities admitted once the server is calm',
  async (t) => {
    const { channel, close } = await cpuBound();
    t.defer(() => close());
    // An overload that leaves this caller holding a level that sheds business priority 40.
    const overload = await openLoop(1500, 10, 4, (i) => burn(channel, i % 5 === 0 ? 0 : 40));
    assert.ok(
      overload.slice(-50).some((r) => reasonOf(r) === 'local_admission'),
      'the caller sheds business priority 40',
    );
    // Then only priority 0 traffic (its answers keep refreshing the low level), and a call at 40
    // every 50 ms: the callee's raises and the caller's probes let business priority 40 back in.
    const calm = await openLoop(2500, 50, 2, (i) => burn(channel, i % 2 === 0 ? 0 : 40));
    const last = calm.filter((_, i) => i % 2 === 1).slice(-10);
    assert.equal(last.filter((r) => r.status === 'rejected').map(reasonOf), []);
  },
);

scopedTest(
  'with two servers in one process, the CPU overload one causes is shed by it, not by the light one beside it',
  async (t) => {
    // The event loop is the process's; its delay goes to the servers in proportion to the work
    // they start. Burn: ~125 calls/s of capacity, offered 300/s. Light: 100 cheap calls/s.
    const child = t.spawnTs(fileURLToPath(new URL('./helpers/cpu-bound-server.ts', import.meta.url)), ['--light']);
    const [, heavyPort, lightPort] = await waitForLine(child, /^ports (\d+) (\d+)$/);
    const heavy = t.channel(`127.0.0.1:${heavyPort}`, { maxRetries: 0 });
    const light = t.channel(`127.0.0.1:${lightPort}`, { maxRetries: 0 });
    const [, lightResults] = await Promise.all([
      openLoop(2000, 10, 3, () =>
        heavy.call(CpuBound.methods.burn, { ms: 8 }, { businessPriority: 10, timeoutMs: 2000 }),
      ),
      openLoop(2000, 20, 2, () => light.call(Light.methods.ping, {}, { businessPriority: 10, timeoutMs: 5000 })),
    ]);
    const seen = (await heavy.call(CpuBound.methods.windows, {}, { timeoutMs: 10_000 })) as AdmissionMetrics[];
    const busy = seen.filter((w) => w.methods['CpuBound/burn'] !== undefined);
    assert.ok(
      busy.some((w) => w.overloaded && w.level < ADMIT_ALL),
      'the heavy server shed',
    );
    const lightWindows = seen.filter((w) => w.methods['Light/ping'] !== undefined);
    const shown = lightWindows
      .map(
        (w) =>
          `${w.loopDelayMs.toFixed(1)}/${w.level}/${w.avgQueuingMs.toFixed(1)}/${w.started}/${w.durationMs.toFixed(0)}`,
      )
      .join(' ');
    assert.ok(lightWindows.length > 0);
    assert.ok(
      lightWindows.every((w) => w.level === ADMIT_ALL && w.rejected.admission_level === 0),
      `the light server shed: ${shown}`,
    );
    assert.equal(lightResults.filter((r) => r.status === 'rejected').map(reasonOf), []);
  },
);

scopedTest('dry-run decides and reports, but rejects nothing and tells callers to admit everything', async (t) => {
  const { server, target } = await serve(Work, handlers, {
    concurrency: 2,
    admission: { windowMs: 100, dryRun: true },
  });
  const channel = createChannel(target, { maxRetries: 0 });
  const { seen, stop } = windows();
  t.defer(() => server.close());
  t.defer(() => channel.close());
  t.defer(() => stop());
  const results = await openLoop(800, 10, 3, () =>
    channel.call(Work.methods.sleep, { ms: 10 }, { businessPriority: 10, timeoutMs: 10_000 }),
  );
  assert.equal(results.filter((r) => r.status === 'rejected').map(reasonOf), []);
  const mine = seen.filter((w) => w.methods['Work/sleep'] !== undefined);
  assert.ok(mine.every((w) => w.dryRun));
  assert.ok(
    mine.some((w) => w.overloaded && w.level < ADMIT_ALL),
    'the level was computed',
  );
  assert.is(server.admissionLevel, ADMIT_ALL);
});

scopedTest('the queue ceiling holds under a burst, and every request is answered', async (t) => {
  let maxQueued = 0;
  const { server, target } = await t.serve(
    Work,
    {
      ...handlers,
      async sleep({ ms }) {
        maxQueued = Math.max(maxQueued, server.stats().queued);
        await delay(ms);
        return { ok: true as const };
      },
    },
    { concurrency: 1, maxQueueLength: 10, admission: { policy: 'none' } },
  );
  const channel = t.channel(target, { maxRetries: 0 });
  const results = await Promise.allSettled(
    Array.from({ length: 60 }, () => channel.call(Work.methods.sleep, { ms: 5 }, { timeoutMs: 5000 })),
  );
  const reasons = results.map(reasonOf);
  assert.ok(maxQueued <= 10, `queued ${maxQueued}`);
  assert.ok(reasons.includes('queue_full'));
  assert.ok(
    reasons.every((r) => r === 'ok' || r === 'queue_full'),
    reasons.join(),
  );
});

scopedTest('a callee rejection is retried on the next endpoint; a local rejection never is', async (t) => {
  // One endpoint always rejects (its level admits business priority 0 only), the other serves.
  const busy = await t.serve(Work, handlers, { admission: { policy: 'dagor' } });
  (busy.server.admission.policy as { level: number }).level = 127;
  const idle = await t.serve(Work, handlers);
  const channel = t.channel(`${busy.target},${idle.target}`, { maxRetries: 3 });
  // Business priority 0 is admitted by both: call until both endpoints are connected.
  while (channel.endpoints().filter((e) => e.state === 'ready').length < 2) {
    await channel.call(Work.methods.sleep, { ms: 1 }, { businessPriority: 0 });
  }
  for (let i = 0; i < 4; i++) await channel.call(Work.methods.sleep, { ms: 1 }, { businessPriority: 5 });
  const single = createChannel(busy.target, { maxRetries: 3 });
  const first = await rejection(single.call(Work.methods.sleep, { ms: 1 }, { businessPriority: 5 }));
  // The callee's answer brought a level that sheds the call, and no other endpoint admits it:
  // the callee's rejection is the outcome, not retried, and the retry budget is untouched.
  assert.is((first as RpcError).reason, 'admission_level');
  assert.is(single.retryBudget.available(5), 10);
  // Then the caller sheds locally, but for one probe per 100 ms.
  const next = await Promise.all(
    [1, 2, 3].map(() => rejection(single.call(Work.methods.sleep, { ms: 1 }, { businessPriority: 5 }))),
  );
  assert.ok(
    next.filter((error) => (error as RpcError).reason === 'local_admission').length >= 2,
    next.map((e) => (e as RpcError).reason).join(),
  );
  assert.is(busy.server.stats().inFlight, 0);
  await single.close();
});

scopedTest(
  "a retry takes a token from its business priority's budget, only when some endpoint still admits the call",
  async (t) => {
    const servers = [
      await serve(Work, handlers, { admission: { policy: 'dagor' } }),
      await serve(Work, handlers, { admission: { policy: 'dagor' } }),
    ];
    const channel = createChannel(servers.map((s) => s.target).join(','), { maxRetries: 3, retryBudgetRatio: 0 });
    t.defer(() => Promise.all(servers.map(({ server }) => server.close())));
    t.defer(() => channel.close());
    while (channel.endpoints().filter((e) => e.state === 'ready').length < 2) {
      await channel.call(Work.methods.sleep, { ms: 1 }, { businessPriority: 5 });
    }
    // Both servers start shedding everything below business priority 0; the client has not heard yet.
    for (const { server } of servers) (server.admission.policy as { level: number }).level = 127;
    const error = await rejection(channel.call(Work.methods.sleep, { ms: 1 }, { businessPriority: 5 }));
    // The first server's rejection is retried on the second (one token); the second's rejection
    // leaves no endpoint that admits the call, so it is the outcome and costs nothing more.
    assert.is((error as RpcError).reason, 'admission_level');
    assert.is(channel.retryBudget.available(5), 9);
    // Each business priority has its own budget: the most important calls still have all of theirs.
    assert.is(channel.retryBudget.available(0), 10);
    const stats = channel.stats();
    assert.is(stats.retries, 1);
    assert.is(stats.retryTokens[5], 9);
    assert.is(stats.maxRetryTokens, 10);
    // An empty budget refuses the retry, and says so (a channel that has not heard the levels yet).
    const fresh = createChannel(servers.map((s) => s.target).join(','), { maxRetries: 3, retryBudgetRatio: 0 });
    for (const { server } of servers) (server.admission.policy as { level: number }).level = ADMIT_ALL;
    while (fresh.endpoints().filter((e) => e.state === 'ready').length < 2)
      await fresh.call(Work.methods.sleep, { ms: 1 }, { businessPriority: 5 });
    for (const { server } of servers) (server.admission.policy as { level: number }).level = 127;
    while (fresh.retryBudget.trySpend(5));
    await rejection(fresh.call(Work.methods.sleep, { ms: 1 }, { businessPriority: 5 }));
    assert.equal([fresh.stats().retries, fresh.stats().retriesDenied], [0, 1]);
    await fresh.close();
  },
);

test('server admission options are validated by name', () => {
  assert.throws(() => createServer({ admission: { policy: 'lifo' as 'none' } }), /admission\.policy/);
  assert.throws(() => createServer({ admission: { queuingThresholdMs: -1 } }), /admission\.queuingThresholdMs/);
});

test.run();
