/**
 * `npm run bench -- soak [--seconds 60]` (or `node --conditions=corpc-source --import tsx bench/soak.ts`):
 * a server of known capacity (`--concurrency` handlers × `--handler-ms` each) in its own
 * process, driven open loop at `--overload` times that capacity for `--seconds`. Reports the
 * server's RSS over time (it should level off), goodput against capacity, and the accounting at
 * the caller: every request sent ended exactly once, as a response or an error, by status.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createClient, type StatusName } from 'corpc';
import { runLoad } from '../runtime/loadgen/engine.ts';
import { Work } from '../test/fixtures/reliability-service.ts';
import { parseScenarioArgs, numberOption } from './args.ts';

export interface SoakPlan {
  seconds: number;
  overload: number;
  concurrency: number;
  handlerMs: number;
  timeoutMs: number;
}

export interface SoakReport extends SoakPlan {
  capacityPerS: number;
  offeredPerS: number;
  sent: number;
  /** Responses and errors, by status. */
  outcomes: Partial<Record<StatusName, number>>;
  answered: number;
  goodputPerS: number;
  /** Server RSS in MiB: after warm-up, at the middle of the overload, at its end, and the peak. */
  rssMiB: { start: number; middle: number; end: number; peak: number };
  /** Requests the server still held when the load ended and every answer was in. */
  serverInFlightAtEnd: number;
}

const USAGE = `usage: soak.ts [--seconds 60] [--overload 10] [--concurrency 4] [--handler-ms 20] [--timeout-ms 500] [--json]`;

const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

export async function soak(plan: SoakPlan): Promise<SoakReport> {
  const capacityPerS = (plan.concurrency * 1000) / plan.handlerMs;
  const offeredPerS = capacityPerS * plan.overload;
  // A queue of 100 ms of work: what cannot be served within a deadline is refused at once.
  const maxQueueLength = Math.max(1, Math.round(capacityPerS / 10));
  const file = fileURLToPath(new URL('../test/fixtures/soak-server.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--conditions=corpc-source', '--import', 'tsx', file, String(plan.concurrency), String(maxQueueLength)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const samples: { at: number; rss: number; inFlight: number }[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the soak server exited (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const listening = /^listening (\d+)$/.exec(line);
      if (listening !== null) resolve(Number(listening[1]));
      const sample = /^rss (\d+) inflight (\d+)$/.exec(line);
      if (sample !== null) samples.push({ at: performance.now(), rss: Number(sample[1]), inFlight: Number(sample[2]) });
    });
  });
  const client = createClient(Work, `127.0.0.1:${port}`, { timeoutMs: plan.timeoutMs });
  try {
    const request = { ms: plan.handlerMs };
    const send = (options: object): Promise<unknown> => client.work(request, options);
    // Warm-up at capacity: JIT, connections, the server's steady footprint.
    await runLoad(send, { rate: capacityPerS, durationMs: 1000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const startedAt = performance.now();
    const start = samples.at(-1)!.rss;
    const result = await runLoad(send, {
      rate: offeredPerS,
      durationMs: plan.seconds * 1000,
      timeoutMs: plan.timeoutMs,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const during = samples.filter((s) => s.at >= startedAt);
    const middle = during[Math.floor(during.length / 2)]?.rss ?? start;
    const outcomes = result.measured.outcomes;
    return {
      ...plan,
      capacityPerS,
      offeredPerS,
      sent: result.measured.sent,
      outcomes: outcomes.toObject(),
      answered: outcomes.total,
      goodputPerS: Math.round(outcomes.ok / plan.seconds),
      rssMiB: {
        start: mib(start),
        middle: mib(middle),
        end: mib(samples.at(-1)!.rss),
        peak: mib(Math.max(...during.map((s) => s.rss))),
      },
      serverInFlightAtEnd: samples.at(-1)!.inFlight,
    };
  } finally {
    client.destroy();
    child.kill('SIGKILL');
  }
}

export async function main(argv: string[]): Promise<SoakReport> {
  const { values } = parseScenarioArgs(
    'soak',
    {
      args: argv,
      strict: true,
      options: {
        seconds: { type: 'string' },
        overload: { type: 'string' },
        concurrency: { type: 'string' },
        'handler-ms': { type: 'string' },
        'timeout-ms': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    },
    USAGE,
  );
  const report = await soak({
    seconds: numberOption('--seconds', values.seconds ?? '60', { exclusiveMin: true }),
    overload: numberOption('--overload', values.overload ?? '10', { exclusiveMin: true }),
    concurrency: numberOption('--concurrency', values.concurrency ?? '4', { integer: true, min: 1 }),
    handlerMs: numberOption('--handler-ms', values['handler-ms'] ?? '20', { exclusiveMin: true }),
    timeoutMs: numberOption('--timeout-ms', values['timeout-ms'] ?? '500', { exclusiveMin: true }),
  });
  if (values.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    const { rssMiB: rss } = report;
    console.log(
      `soak: ${report.overload}x overload (${report.offeredPerS}/s offered, capacity ${report.capacityPerS}/s) for ${report.seconds} s`,
    );
    console.log(
      `  goodput ${report.goodputPerS}/s (${Math.round((report.goodputPerS / report.capacityPerS) * 100)}% of capacity)`,
    );
    console.log(`  accounting: sent ${report.sent} = answered ${report.answered}: ${JSON.stringify(report.outcomes)}`);
    console.log(
      `  server RSS MiB: start ${rss.start}, middle ${rss.middle}, end ${rss.end}, peak ${rss.peak}; in flight at the end: ${report.serverInFlightAtEnd}`,
    );
  }
  return report;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
