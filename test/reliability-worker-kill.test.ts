import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type RpcError, createClient } from 'corpc';
import { Work } from './fixtures/reliability-service.ts';
import { killRuntime, metricSum, startRuntime, FREE_PORTS } from './helpers/runtime.ts';
import { scopedTest } from './helpers/scope.ts';

scopedTest(
  'SIGKILL to a worker under load: every call ends by its deadline (OK, UNAVAILABLE, or DEADLINE_EXCEEDED while no worker was up, RESOURCE_EXHAUSTED when the retries storm the replacement); idempotent retries succeed once the supervisor has replaced it',
  async (t) => {
    const runtime = await startRuntime(['test/fixtures/reliability-service.ts', '--workers', '1', ...FREE_PORTS], {
      env: { CORPC_LOG_LEVEL: 'silent' },
    });
    const client = createClient(Work, `127.0.0.1:${runtime.units.work}`, { initialBackoffMs: 20, maxBackoffMs: 200 });
    const deadlineMs = 2000;
    const outcomes: { code: string; lateMs: number }[] = [];
    const retried: Promise<number | Error>[] = [];
    // Every call that failed starts a retry loop of its own: when the replacement comes up, a
    // thousand or more of them arrive at once, and its admission control may shed some of them.
    const failed = (code: string): boolean =>
      code === 'UNAVAILABLE' || code === 'DEADLINE_EXCEEDED' || code === 'RESOURCE_EXHAUSTED';
    let stop = false;
    /** Retries an idempotent call until it succeeds (each attempt within its own deadline). */
    async function retry(): Promise<number> {
      for (let attempt = 1; ; attempt++) {
        try {
          await client.work({ ms: 5 }, { timeoutMs: deadlineMs });
          return attempt;
        } catch (error) {
          if (!failed((error as RpcError).code) || attempt === 200) throw error;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      }
    }
    async function caller(): Promise<void> {
      while (!stop) {
        const started = performance.now();
        let code = 'OK';
        try {
          await client.work({ ms: 20 }, { timeoutMs: deadlineMs });
        } catch (error) {
          code = (error as RpcError).code;
          if (failed(code)) retried.push(retry().catch((error: Error) => error));
          else await new Promise((resolve) => setTimeout(resolve, 10));
        }
        outcomes.push({ code, lateMs: performance.now() - started - deadlineMs });
        if (failed(code)) await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    t.defer(() => killRuntime(runtime));
    t.defer(() => client.destroy());
    t.defer(() => {
      stop = true;
    });
    const { pid } = await client.work({ ms: 0 });
    const callers = Array.from({ length: 50 }, caller);
    await new Promise((resolve) => setTimeout(resolve, 500));
    process.kill(pid, 'SIGKILL');
    // Run until the replacement worker has served calls for a while.
    for (let i = 0; i < 300; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const recent = outcomes.slice(-50);
      if (outcomes.some((o) => failed(o.code)) && recent.length === 50 && recent.every((o) => o.code === 'OK')) break;
    }
    stop = true;
    await Promise.all(callers);
    const attempts = await Promise.all(retried);

    const byCode: Record<string, number> = {};
    for (const { code } of outcomes) byCode[code] = (byCode[code] ?? 0) + 1;
    assert.ok(
      byCode.OK! > 0 && (byCode.UNAVAILABLE ?? 0) + (byCode.DEADLINE_EXCEEDED ?? 0) > 0,
      `outcomes: ${JSON.stringify(byCode)}`,
    );
    assert.ok(
      Object.keys(byCode).every((code) => code === 'OK' || failed(code)),
      `outcomes: ${JSON.stringify(byCode)}`,
    );
    assert.ok(
      outcomes.every((o) => o.lateMs < 500),
      'no call outlived its deadline',
    );
    assert.is(
      attempts.length,
      (byCode.UNAVAILABLE ?? 0) + (byCode.DEADLINE_EXCEEDED ?? 0) + (byCode.RESOURCE_EXHAUSTED ?? 0),
    );
    assert.ok(
      attempts.every((attempt) => typeof attempt === 'number'),
      `every failed idempotent call succeeded on retry: ${attempts.filter((a) => typeof a !== 'number').join('; ')}`,
    );
    // At the top priority: the replacement may still shed the lowest ones after the retry storm
    // (its callers hold its level), and this call only asks which process answers.
    const { pid: replacement } = await client.work({ ms: 0 }, { businessPriority: 0, userPriority: 0 });
    assert.is.not(replacement, pid);
    assert.is(metricSum(await (await runtime.admin('/metrics')).text(), 'corpc_worker_restarts_total'), 1);
  },
);

test.run();
