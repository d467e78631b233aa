import type { StatusName } from 'corpc';
import type { IntervalStats, LoadResult } from './engine.ts';
import type { LatencySummary } from './histogram.ts';

/** What `--json` writes for one run. */
export interface RunReport {
  target: string;
  method: string;
  mode: 'closed' | 'open';
  concurrency: number | null;
  rate: number | null;
  duration_s: number;
  sent: number;
  ok: number;
  outcomes: Partial<Record<StatusName, number>>;
  requests_per_s: number;
  /** Of the successful requests; open loop: from each request's intended send time. */
  latency_ms: Omit<LatencySummary, 'count'>;
  warmup: { sent: number; outcomes: Partial<Record<StatusName, number>> };
  timeline: { t_s: number; requests_per_s: number; errors: number; p50_ms: number; p99_ms: number }[];
}

const round = (value: number, digits = 3): number => Math.round(value * 10 ** digits) / 10 ** digits;

export function buildReport(
  target: string,
  method: string,
  load: { concurrency?: number | undefined; rate?: number | undefined },
  result: LoadResult,
): RunReport {
  const { measured } = result;
  const { count: _count, ...latency } = measured.latency.summary();
  return {
    target,
    method,
    mode: result.mode,
    concurrency: load.concurrency ?? null,
    rate: load.rate ?? null,
    duration_s: round(result.elapsedMs / 1000),
    sent: measured.sent,
    ok: measured.outcomes.ok,
    outcomes: measured.outcomes.toObject(),
    requests_per_s: round(result.requestsPerS, 1),
    latency_ms: Object.fromEntries(Object.entries(latency).map(([k, v]) => [k, round(v)])) as RunReport['latency_ms'],
    warmup: { sent: result.warmup.sent, outcomes: result.warmup.outcomes.toObject() },
    timeline: result.timeline.map((s) => ({
      t_s: round(s.elapsedMs / 1000, 1),
      requests_per_s: Math.round(s.rate),
      errors: s.errors,
      p50_ms: round(s.p50),
      p99_ms: round(s.p99),
    })),
  };
}

const count = (value: number): string => Math.round(value).toLocaleString('en-US');
const ms = (value: number): string => (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(3));

/** The end-of-run table. */
export function formatReport(report: RunReport): string {
  const load =
    report.mode === 'closed' ? `closed loop, ${report.concurrency} in flight` : `open loop, ${count(report.rate ?? 0)} req/s offered`;
  const l = report.latency_ms;
  const outcomeLines = Object.entries(report.outcomes).map(
    ([name, n]) => `  ${name.padEnd(20)} ${count(n).padStart(12)}  ${((100 * n) / Math.max(1, report.sent)).toFixed(2).padStart(6)} %`,
  );
  const accounted = Object.values(report.outcomes).reduce((sum, n) => sum + n, 0);
  return [
    `${report.method} on ${report.target}: ${load}, ${report.duration_s} s measured`,
    '',
    `  sent ${count(report.sent)}   ok ${count(report.ok)}   ${count(report.requests_per_s)} req/s`,
    '',
    `latency (ms, successful requests${report.mode === 'open' ? ', from the intended send time' : ''}):`,
    `  ${['p50', 'p90', 'p99', 'p99.9', 'max', 'mean'].map((h) => h.padStart(8)).join('')}`,
    `  ${[l.p50, l.p90, l.p99, l.p999, l.max, l.mean].map((v) => ms(v).padStart(8)).join('')}`,
    '',
    'outcomes:',
    ...outcomeLines,
    `  ${'total'.padEnd(20)} ${count(accounted).padStart(12)}${accounted === report.sent ? '' : `  (sent ${report.sent}: MISMATCH)`}`,
    '',
    `warm-up (not counted above): ${count(report.warmup.sent)} sent`,
  ].join('\n');
}

/** The live line: elapsed, rate, errors, p99, in flight. */
export function formatProgress(stats: IntervalStats): string {
  return (
    `[${(stats.elapsedMs / 1000).toFixed(1).padStart(6)} s]${stats.warmup ? ' warm-up' : ''} ` +
    `${count(stats.rate).padStart(9)} req/s  errors ${count(stats.errors).padStart(6)}  ` +
    `p50 ${ms(stats.p50)} ms  p99 ${ms(stats.p99)} ms  in flight ${stats.inFlight}`
  );
}
