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
  /** By status and reason: `RESOURCE_EXHAUSTED local_admission`, `DEADLINE_EXCEEDED deadline`, `OK`. */
  outcomes_by_reason: Record<string, number>;
  /** Goodput: successful requests per second (the headline figure). */
  ok_per_s: number;
  /** Requests sent per second (offered). */
  sent_per_s: number;
  /** Requests answered (any outcome) per second. */
  requests_per_s: number;
  /** With --priority-mix: each business priority's share of the load and how it fared. */
  priorities?: { business: number; sent: number; ok: number; ok_per_s: number; outcomes: Record<string, number> }[];
  /** Of the successful requests; open loop: from each request's intended send time. */
  latency_ms: Omit<LatencySummary, 'count'>;
  warmup: { sent: number; outcomes: Partial<Record<StatusName, number>> };
  timeline: {
    t_s: number;
    requests_per_s: number;
    ok_per_s: number;
    errors: number;
    /** Failed requests per second, by status and reason. */
    failed_per_s: Record<string, number>;
    p50_ms: number;
    p99_ms: number;
  }[];
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
  const seconds = result.elapsedMs / 1000;
  const priorities = measured.byBusiness.flatMap((tally, business) =>
    tally === undefined
      ? []
      : [
          {
            business,
            sent: tally.sent,
            ok: tally.outcomes.ok,
            ok_per_s: round(tally.outcomes.ok / seconds, 1),
            outcomes: tally.outcomes.byReason(),
          },
        ],
  );
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
    outcomes_by_reason: measured.outcomes.byReason(),
    ok_per_s: round(measured.outcomes.ok / seconds, 1),
    sent_per_s: round(measured.sent / seconds, 1),
    requests_per_s: round(result.requestsPerS, 1),
    ...(priorities.length === 0 ? {} : { priorities }),
    latency_ms: Object.fromEntries(Object.entries(latency).map(([k, v]) => [k, round(v)])) as RunReport['latency_ms'],
    warmup: { sent: result.warmup.sent, outcomes: result.warmup.outcomes.toObject() },
    timeline: result.timeline.map((s) => ({
      t_s: round(s.elapsedMs / 1000, 1),
      requests_per_s: Math.round(s.rate),
      ok_per_s: Math.round(perSecond(s, s.ok)),
      errors: s.errors,
      failed_per_s: Object.fromEntries(
        Object.entries(s.outcomes).flatMap(([key, n]) => (key === 'OK' ? [] : [[key, round(perSecond(s, n), 1)]])),
      ),
      p50_ms: round(s.p50),
      p99_ms: round(s.p99),
    })),
  };
}

/** A count of one interval, per second. */
const perSecond = (s: IntervalStats, n: number): number => (s.completed === 0 ? 0 : (n * s.rate) / s.completed);

const count = (value: number): string => Math.round(value).toLocaleString('en-US');
const ms = (value: number): string =>
  value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(3);

/** The end-of-run table. */
export function formatReport(report: RunReport): string {
  const load =
    report.mode === 'closed'
      ? `closed loop, ${report.concurrency} in flight`
      : `open loop, ${count(report.rate ?? 0)} req/s offered`;
  const l = report.latency_ms;
  const share = (n: number, of: number): string => `${((100 * n) / Math.max(1, of)).toFixed(2).padStart(6)} %`;
  const width = Math.max(20, ...Object.keys(report.outcomes_by_reason).map((k) => k.length));
  const outcomeLines = Object.entries(report.outcomes_by_reason).map(
    ([name, n]) => `  ${name.padEnd(width)} ${count(n).padStart(12)}  ${share(n, report.sent)}`,
  );
  const accounted = Object.values(report.outcomes).reduce((sum, n) => sum + n, 0);
  const priorityLines =
    report.priorities === undefined
      ? []
      : [
          '',
          'by business priority (lower is more important):',
          `  ${'B'.padStart(3)} ${'sent'.padStart(10)} ${'ok'.padStart(10)} ${'ok %'.padStart(8)} ${'OK/s'.padStart(9)}  failures`,
          ...report.priorities.map(
            (p) =>
              `  ${String(p.business).padStart(3)} ${count(p.sent).padStart(10)} ${count(p.ok).padStart(10)} ${share(p.ok, p.sent)} ${count(p.ok_per_s).padStart(9)}  ` +
              (Object.entries(p.outcomes)
                .filter(([key]) => key !== 'OK')
                .map(([key, n]) => `${key} ${count(n)}`)
                .join(', ') || '–'),
          ),
        ];
  return [
    `${report.method} on ${report.target}: ${load}, ${report.duration_s} s measured`,
    '',
    `  goodput ${count(report.ok_per_s)} OK/s   sent ${count(report.sent_per_s)}/s   answered ${count(report.requests_per_s)}/s`,
    `  sent ${count(report.sent)}   ok ${count(report.ok)} (${share(report.ok, report.sent).trim()})`,
    '',
    `latency (ms, successful requests${report.mode === 'open' ? ', from the intended send time' : ''}):`,
    `  ${['p50', 'p90', 'p99', 'p99.9', 'max', 'mean'].map((h) => h.padStart(8)).join('')}`,
    `  ${[l.p50, l.p90, l.p99, l.p999, l.max, l.mean].map((v) => ms(v).padStart(8)).join('')}`,
    '',
    'outcomes (status and reason):',
    ...outcomeLines,
    `  ${'total'.padEnd(width)} ${count(accounted).padStart(12)}${accounted === report.sent ? '' : `  (sent ${report.sent}: MISMATCH)`}`,
    ...priorityLines,
    '',
    `warm-up (not counted above): ${count(report.warmup.sent)} sent`,
  ].join('\n');
}

/** The live line: elapsed, rate, errors, p99, in flight. */
export function formatProgress(stats: IntervalStats): string {
  return (
    `[${(stats.elapsedMs / 1000).toFixed(1).padStart(6)} s]${stats.warmup ? ' warm-up' : ''} ` +
    `${count(perSecond(stats, stats.ok)).padStart(9)} OK/s  ${count(stats.rate).padStart(9)} answered/s  errors ${count(stats.errors).padStart(6)}  ` +
    `p50 ${ms(stats.p50)} ms  p99 ${ms(stats.p99)} ms  in flight ${stats.inFlight}`
  );
}
