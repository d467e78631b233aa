/**
 * The dashboard in a real headless Chromium (Debian's `chromium`; .ci/run installs it): loaded
 * while the demo is under load, its plots get points and move without a reload, and its totals
 * are those of /metrics. Without Chromium the test is skipped, and says so.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { killRuntime, metricSum, startRuntime, FREE_PORTS } from './helpers/runtime.ts';

const CHROMIUM = process.env.CORPC_CHROMIUM ?? '/usr/bin/chromium';

/** Retries `check` (assertions) every 250 ms until it passes; after `timeoutMs`, its last failure is the test's. */
async function eventually(check: () => Promise<void>, { timeoutMs }: { timeoutMs: number }): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Open-loop HTTP load on the demo's entry (a mix of its four actions) until stopped; resolves when every request has its answer. */
function drive(httpPort: number, perSecond: number): { stop: () => Promise<void> } {
  const actions = [
    ['/Gateway/Login', { userId: 'u-1', password: 'pw' }],
    ['/Gateway/Pay', { toUserId: 'u-2', cents: 1 }],
    ['/Gateway/SendMessage', { toUserId: 'u-3', text: 'hi' }],
    ['/Gateway/PostFeed', { text: 'hi' }],
  ] as const;
  const pending = new Set<Promise<unknown>>();
  let i = 0;
  const timer = setInterval(() => {
    for (let n = 0; n < perSecond / 50; n++) {
      const [path, body] = actions[i++ % actions.length]!;
      const request = fetch(`http://127.0.0.1:${httpPort}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': `u-${i % 100}` },
        body: JSON.stringify(body),
      })
        .then((res) => res.arrayBuffer())
        .catch(() => undefined)
        .finally(() => pending.delete(request));
      pending.add(request);
    }
  }, 20);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(pending);
    },
  };
}

if (!existsSync(CHROMIUM)) {
  console.log(
    `SKIPPED: the dashboard browser test needs Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`,
  );
  test.skip('the dashboard, in headless Chromium, plots the demo under load and agrees with /metrics', () => undefined);
} else {
  test('the dashboard, in headless Chromium, plots the demo under load and agrees with /metrics', async () => {
    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(join(tmpdir(), 'corpc-chromium-'));
    const runtime = await startRuntime(['services/demo', '--workers', '2', ...FREE_PORTS]);
    const load = drive(runtime.httpPort!, 400);
    // launchPersistentContext: the profile is a fresh --user-data-dir of our own.
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = browser.pages()[0] ?? (await browser.newPage());
      await page.goto(`http://127.0.0.1:${runtime.adminPort}/dashboard`);
      // Under load the plots fill, one point a second, without a reload.
      const served = page.locator('[data-unit="gateway"] [data-chart="Requests"] polyline[data-label="served"]');
      const pointsNow = async (): Promise<number> => Number(await served.getAttribute('data-points'));
      await eventually(async () => assert.ok((await pointsNow()) >= 3), { timeoutMs: 20_000 });
      const pointsUnderLoad = await pointsNow();
      const charts = await page.locator('[data-unit="gateway"] .chart').count();
      assert.is(charts, 6, 'requests, rejected, level, queuing, latency, retries');
      assert.ok((await page.locator('#priorities .chart').count()) >= 4, 'one plot per entry business priority');
      assert.match(
        (await page.locator('[data-unit="gateway"] .level').textContent()) ?? '',
        /admits all|level B\d+ U\d+: calls of business priority above/,
      );
      const workers = await page.locator('#worker option').allTextContents();
      assert.equal(workers.length, 3, `all and one per worker: ${workers}`);

      await load.stop();
      const metricsOf = async (): Promise<string> => (await runtime.admin('/metrics')).text();
      // Once the workers' last second is in, the page's totals are those of /metrics, unit by unit.
      for (const unit of ['gateway', 'messages', 'accounts']) {
        await eventually(
          async () => {
            const text = await metricsOf();
            const row = page.locator(`[data-unit="${unit}"]`);
            const shown = async (field: string): Promise<number> =>
              Number(await row.locator(`[data-total="${field}"]`).textContent());
            assert.is(
              await shown('served'),
              metricSum(text, 'corpc_requests_total', { unit, code: 'OK' }),
              `${unit} served`,
            );
            assert.is(
              await shown('rejected'),
              metricSum(text, 'corpc_admission_rejections_total', { unit: unit }),
              `${unit} rejected`,
            );
            assert.is(
              await shown('shed'),
              metricSum(text, 'corpc_client_calls_total', { callee: unit, side: 'client', code: 'RESOURCE_EXHAUSTED' }),
              `${unit} shed by callers`,
            );
          },
          { timeoutMs: 15_000 },
        );
      }
      // One point a second: the page keeps polling after the load, whenever the checks above ended.
      await eventually(async () => assert.ok((await pointsNow()) > pointsUnderLoad, 'still updating'), {
        timeoutMs: 10_000,
      });
    } finally {
      await load.stop();
      await browser.close();
      await killRuntime(runtime);
      rmSync(profile, { recursive: true, force: true });
    }
  });
}

test.run();
