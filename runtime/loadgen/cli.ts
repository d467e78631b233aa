/**
 * `corpc bench <address> <Service/Method>`: a load generator for any corpc service, in the spirit
 * of ghz and wrk. See docs/bench.md.
 */
import { writeFileSync } from 'node:fs';
import { RpcError, Status, createChannel, type Channel, type MethodDescriptor } from 'corpc';
import { runLoad, type IntervalStats, type LoadPlan, type Send } from './engine.ts';
import { UsageError } from '../command-line.ts';
import { parseBenchArgs, USAGE, type BenchOptions } from './options.ts';
import { findKnee, rampRates, type RampStep } from './ramp.ts';
import { buildReport, formatProgress, formatReport, type RunReport } from './report.ts';
import { lineChart, type Panel } from './svg.ts';

export async function main(argv: string[]): Promise<number> {
  let options: BenchOptions;
  let method: MethodDescriptor;
  let resolved: typeof import('./method.ts');
  try {
    const parsed = parseBenchArgs(argv);
    if (parsed === 'help') {
      console.log(USAGE);
      return 0;
    }
    options = parsed;
    resolved = await import('./method.ts');
    method = await resolved.resolveMethod(options.method, options.body, options.module, options.proto);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`corpc bench: ${error.message}\n(corpc bench --help for the options)`);
    return 2;
  }
  let channel: Channel;
  try {
    channel = createChannel(options.address, {
      connectionsPerEndpoint: options.connections,
      timeoutMs: options.timeoutMs,
      ...options.target,
    });
  } catch (error) {
    console.error(`corpc bench: ${(error as Error).message}`);
    return 2;
  }
  try {
    const body = options.body;
    const sendTo =
      (target: MethodDescriptor): Send =>
      (callOptions) =>
        channel.call(target, body, callOptions);
    let problem = await preflight(sendTo(method), options, method);
    // Without a descriptor, `Svc/Get` may be registered as `Svc/get` (or the reverse): try it once.
    const other =
      options.module === undefined && options.proto === undefined ? resolved.otherSpelling(method.path) : undefined;
    if (problem?.status === Status.UNIMPLEMENTED && other !== undefined) {
      const alternative: MethodDescriptor = { name: other.slice(other.lastIndexOf('/') + 1), path: other };
      const second = await preflight(sendTo(alternative), options, alternative);
      if (second === null) {
        method = alternative;
        problem = null;
      }
    }
    const send = sendTo(method);
    if (problem !== null) {
      console.error(`corpc bench: ${problem.message}; no load sent`);
      return 1;
    }
    if (options.ramp !== undefined) await ramp(send, options, method);
    else await single(send, options, method);
    return 0;
  } finally {
    channel.destroy();
  }
}

/** One call first, not counted: a wrong method or an unreachable server is an error, not a report full of them. */
async function preflight(
  send: Send,
  options: BenchOptions,
  method: MethodDescriptor,
): Promise<{ status: number; message: string } | null> {
  try {
    await send({ timeoutMs: Math.max(options.timeoutMs, 2000) });
    return null;
  } catch (error) {
    if (!(error instanceof RpcError)) throw error;
    const fatal: number[] = [Status.UNIMPLEMENTED, Status.UNAVAILABLE, Status.INVALID_ARGUMENT, Status.NOT_FOUND];
    if (!fatal.includes(error.status)) return null;
    return { status: error.status, message: `${method.path} on ${options.address}: ${error.code}: ${error.message}` };
  }
}

function planOf(options: BenchOptions, progress: (stats: IntervalStats) => void): LoadPlan {
  return {
    concurrency: options.concurrency,
    rate: options.rate,
    durationMs: options.durationMs,
    requests: options.requests,
    warmupMs: options.warmupMs,
    timeoutMs: options.timeoutMs,
    businessPriority: options.businessPriority,
    priorityMix: options.priorityMix,
    userPriority: options.userPriority,
    intervalMs: 1000,
    onInterval: progress,
  };
}

/** The live line: rewritten in place on a terminal, one line a second otherwise. */
function progressPrinter(quiet: boolean): { print: (stats: IntervalStats) => void; end: () => void } {
  const tty = process.stderr.isTTY === true;
  let printed = false;
  return {
    print: (stats) => {
      if (quiet) return;
      printed = true;
      process.stderr.write(tty ? `\r\x1b[2K${formatProgress(stats)}` : `${formatProgress(stats)}\n`);
    },
    end: () => {
      if (printed && tty) process.stderr.write('\n');
    },
  };
}

async function single(send: Send, options: BenchOptions, method: MethodDescriptor): Promise<void> {
  const progress = progressPrinter(options.quiet);
  const result = await runLoad(send, planOf(options, progress.print));
  progress.end();
  const report = buildReport(options.address, method.path, options, result);
  console.log(formatReport(report));
  if (options.json !== undefined) writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
  if (options.svg !== undefined) writeFileSync(options.svg, runChart(report));
}

function latencyPanel(title: string, points: readonly { p50_ms: number; p99_ms: number }[]): Panel {
  return {
    title,
    unit: 'ms',
    series: [
      { label: 'p50', color: '#2ca02c', values: points.map((s) => s.p50_ms) },
      { label: 'p99', color: '#d62728', values: points.map((s) => s.p99_ms) },
    ],
  };
}

const REASON_COLORS = ['#d62728', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

function runChart(report: RunReport): string {
  const t = report.timeline;
  const failures = [...new Set(t.flatMap((s) => Object.keys(s.failed_per_s)))].sort();
  return lineChart(
    `${report.method}: goodput ${report.ok_per_s.toFixed(0)} OK/s of ${report.sent_per_s.toFixed(0)} sent/s, p99 ${report.latency_ms.p99} ms`,
    'seconds',
    t.map((s) => s.t_s),
    [
      {
        title: 'throughput',
        unit: 'req/s',
        series: [
          { label: 'OK', color: '#2ca02c', values: t.map((s) => s.ok_per_s) },
          { label: 'answered (any outcome)', color: '#999999', values: t.map((s) => s.requests_per_s) },
        ],
      },
      {
        title: 'rejected and failed, by status and reason',
        unit: 'req/s',
        series: failures.map((key, i) => ({
          label: key,
          color: REASON_COLORS[i % REASON_COLORS.length]!,
          values: t.map((s) => s.failed_per_s[key] ?? 0),
        })),
      },
      latencyPanel('latency of OK requests', t),
    ],
  );
}

async function ramp(send: Send, options: BenchOptions, method: MethodDescriptor): Promise<void> {
  const { from, to, step } = options.ramp!;
  const steps: RampStep[] = [];
  console.log(
    `${method.path} on ${options.address}: ramp ${from}..${to} req/s by ${step}, ${options.durationMs! / 1000} s a step`,
  );
  console.log(
    `${'offered'.padStart(10)} ${'served'.padStart(10)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'errors'.padStart(8)}`,
  );
  const rates = rampRates(from, to, step);
  for (let i = 0; i < rates.length; i++) {
    const progress = progressPrinter(options.quiet);
    const result = await runLoad(send, {
      ...planOf({ ...options, rate: rates[i], concurrency: undefined }, progress.print),
      warmupMs: i === 0 ? options.warmupMs : 0,
    });
    progress.end();
    const { measured } = result;
    const row: RampStep = {
      offered: rates[i]!,
      achieved: (measured.outcomes.ok * 1000) / result.elapsedMs,
      p50_ms: measured.latency.percentile(50),
      p99_ms: measured.latency.percentile(99),
      sent: measured.sent,
      errors: measured.outcomes.total - measured.outcomes.ok,
    };
    steps.push(row);
    console.log(
      `${Math.round(row.offered).toString().padStart(10)} ${Math.round(row.achieved).toString().padStart(10)} ${row.p50_ms.toFixed(3).padStart(9)} ${row.p99_ms.toFixed(3).padStart(9)} ${String(row.errors).padStart(8)}`,
    );
  }
  const knee = findKnee(steps);
  console.log(
    knee.rate === null
      ? `knee: below ${from} req/s (${knee.reason})`
      : `knee: about ${Math.round(knee.rate)} req/s${knee.reason === null ? ' (not reached: every step kept up)' : ` (${knee.reason})`}`,
  );
  if (options.json !== undefined) {
    writeFileSync(
      options.json,
      `${JSON.stringify({ target: options.address, method: method.path, steps, knee }, null, 2)}\n`,
    );
  }
  if (options.svg !== undefined) {
    writeFileSync(
      options.svg,
      lineChart(
        `${method.path}: ramp, knee ${knee.rate === null ? 'below the first step' : `≈ ${Math.round(knee.rate)} req/s`}`,
        'offered req/s',
        steps.map((s) => s.offered),
        [
          {
            title: 'throughput',
            unit: 'req/s',
            series: [
              { label: 'offered', color: '#999999', values: steps.map((s) => s.offered) },
              { label: 'served', color: '#1f77b4', values: steps.map((s) => s.achieved) },
            ],
          },
          latencyPanel('latency', steps),
        ],
      ),
    );
  }
}
