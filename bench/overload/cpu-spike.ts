/**
 * `npm run bench -- cpu-spike [--quick] [--json FILE] [--policies a,b] [--mixed | --workers N] [--steps] [--trace]`: overload of a
 * CPU-bound worker, the way a Node service really overloads (its event loop saturates).
 *
 * Service: `Burn/burn` spins 2 ms of CPU per call, `createServer()` with its defaults, in its own
 * process pinned to CPU 0; the load generator (this process, one channel with default options)
 * runs on CPU 1. Every call has a 500 ms deadline; business priorities are mixed 5 % B=0, 35 %
 * B=10, 60 % B=40, user priorities uniform. The run:
 * 1. capacity: a closed loop of 8 calls in flight (a queue of ~14 ms, under the 20 ms threshold), OK/s;
 * 2. a burst: a closed loop of 16 calls in flight (a 30 ms queue: overload);
 * 3. open-loop phases at 0.8x → 2x → 4x → 10x → 0.8x of the measured capacity (`--steps`:
 *    0.8x → 1.4x → 0.8x → 10x → 0.8x, each overload a step from under capacity).
 * Per phase (its last 5 s; quick: its last 2.5 s): goodput / capacity, success per business
 * priority, p99 of served calls, calls that failed while the load was under capacity, and how
 * long the admission level took to settle (the share of the mix it admits stays within 5 points
 * of its steady value from then on) and how far it swings while counted (the 10th to the 90th
 * percentile of the share it admits, over the service's windows). `--trace` prints every admission window of the service
 * (JSON lines on stderr: level, queuing time, utilisation, arrivals…). `--workers N` runs the
 * service under `corpc run --workers N` instead (metrics and logs on, nothing pinned, the
 * channel with N connections so that every worker gets some; settling is not measured there).
 */
import { USER_LEVELS, type Channel } from 'corpc';
import {
  BURN_MS,
  DEADLINE_MS,
  burnCall,
  closedLoop,
  runCpuService,
  spawnCpuService,
  type WindowSample,
} from './cpu-service.ts';
import { numberOption } from '../args.ts';
import { parseFlags, percentile, table, writeJson } from './harness.ts';

/** Business priority → share of calls. */
export const MIX: readonly (readonly [number, number])[] = [
  [0, 0.05],
  [10, 0.35],
  [40, 0.6],
];
const LOADS = [0.8, 2, 4, 10, 0.8];
/** `--steps`: each overload a step from 0.8x, the steps the convergence target names (settling within 500 ms). */
const STEP_LOADS = [0.8, 1.4, 0.8, 10, 0.8];
const TICK_MS = 2;

interface Outcome {
  /** Calls started in the counted part of the phase, per business priority. */
  sent: Map<number, number>;
  ok: Map<number, number>;
  latencies: number[];
  failures: Record<string, number>;
}

export interface CpuSpikeRow {
  policy: string;
  phase: string;
  load: number;
  goodput: number;
  success: Record<string, number>;
  p99_ms: number;
  failed_under_capacity: number | null;
  settle_ms: number | null;
  /** The admitted share of the mix over the counted part of the phase: its 10th and 90th percentiles (0..1). */
  swing: [number, number] | null;
  failures: Record<string, number>;
}

export async function main(argv: string[]): Promise<CpuSpikeRow[]> {
  const flags = parseFlags(argv);
  const policies = argv.includes('--policies') ? flags.policies : (['dagor', 'seda', 'none'] as const);
  const mixed = argv.includes('--mixed');
  const trace = argv.includes('--trace');
  const loads = argv.includes('--steps') ? STEP_LOADS : LOADS;
  const workersAt = argv.indexOf('--workers');
  const workers =
    workersAt === -1 ? 0 : numberOption('--workers', argv[workersAt + 1] ?? '', { integer: true, min: 1 });
  const phaseMs = flags.quick ? 4000 : 8000;
  const countMs = flags.quick ? 2500 : 5000;
  let pinning = false;
  console.log(
    `# cpu-spike: a ${BURN_MS} ms CPU-bound handler${mixed ? ' after a 5 ms downstream await' : ''}, ${workers > 0 ? `corpc run --workers ${workers}` : 'createServer() defaults'}, ` +
      `deadline ${DEADLINE_MS} ms, mix ${MIX.map(([b, s]) => `${s * 100}% B=${b}`).join(', ')}; phases ${loads.map((l) => `${l}x`).join(' → ')} of ${phaseMs / 1000} s, last ${countMs / 1000} s counted`,
  );
  const rows: CpuSpikeRow[] = [];
  for (const policy of policies) {
    const service = workers > 0 ? await runCpuService(policy, workers) : await spawnCpuService(policy, mixed);
    pinning = service.pinned;
    try {
      const capacity = await closedLoop(service.channel, 8, flags.quick ? 1500 : 2000, 500, () => 0);
      console.error(`${policy}: capacity ${capacity.toFixed(0)} calls/s`);
      await closedLoop(service.channel, 16, flags.quick ? 2000 : 4000, 0, pickBusiness);
      let index = 0;
      for (const load of loads) {
        const phaseStart = Date.now();
        const outcome = await openLoop(service.channel, load * capacity, phaseMs, phaseMs - countMs);
        const levels = service.windows.filter((s) => s.at >= phaseStart && s.at <= phaseStart + phaseMs);
        if (trace)
          for (const s of levels)
            console.error(
              JSON.stringify({ ...s, at: s.at - phaseStart, share: +(admittedShare(s.level) * 100).toFixed(0) }),
            );
        const sent = [...outcome.sent.values()].reduce((a, b) => a + b, 0);
        const ok = [...outcome.ok.values()].reduce((a, b) => a + b, 0);
        const row: CpuSpikeRow = {
          policy,
          phase: `${index++}`,
          load,
          goodput: (ok * 1000) / countMs / capacity,
          success: Object.fromEntries(
            MIX.map(([b]) => [`B${b}`, (outcome.ok.get(b) ?? 0) / Math.max(1, outcome.sent.get(b) ?? 0)]),
          ),
          p99_ms: percentile(outcome.latencies, 0.99),
          failed_under_capacity: load < 1 ? sent - ok : null,
          settle_ms: settleTime(levels, phaseStart),
          swing: swing(levels, phaseStart + phaseMs - countMs),
          failures: outcome.failures,
        };
        rows.push(row);
        console.error(
          `${policy} ${load}x: goodput ${pct(row.goodput)}, success ${Object.entries(row.success)
            .map(([b, s]) => `${b} ${pct(s)}`)
            .join(' ')}, p99 ${row.p99_ms.toFixed(0)} ms`,
        );
      }
    } finally {
      await service.close();
    }
  }
  console.log(
    table([
      [
        'policy',
        'load',
        'goodput/cap',
        'B=0',
        'B=10',
        'B=40',
        'p99 served',
        'failed <cap',
        'settled',
        'swing',
        'failures',
      ],
      ...rows.map((r) => [
        r.policy,
        `${r.load}x`,
        pct(r.goodput),
        pct(r.success.B0!),
        pct(r.success.B10!),
        pct(r.success.B40!),
        `${r.p99_ms.toFixed(0)} ms`,
        r.failed_under_capacity === null ? '-' : r.failed_under_capacity,
        r.settle_ms === null ? (workers > 0 ? 'n/a' : 'never') : `${r.settle_ms.toFixed(0)} ms`,
        r.swing === null ? 'n/a' : `${(r.swing[0] * 100).toFixed(0)}–${(r.swing[1] * 100).toFixed(0)}%`,
        Object.entries(r.failures)
          .map(([reason, n]) => `${reason} ${n}`)
          .join(', ') || '-',
      ]),
    ]),
  );
  console.log(
    pinning
      ? 'pinning: service on CPU 0, load generator on CPU 1 (taskset)'
      : `pinning: none (${workers > 0 ? `${workers} workers` : 'taskset unavailable'}): service and load generator share the CPUs`,
  );
  writeJson(flags.json, { node: process.version, pinned: pinning, burnMs: BURN_MS, mixed, rows });
  return rows;
}

function pickBusiness(): number {
  let r = Math.random();
  for (const [business, share] of MIX) {
    if ((r -= share) < 0) return business;
  }
  return MIX[MIX.length - 1]![0];
}

/** Calls at `rate` per second for `durationMs`; counts the calls started after `countFromMs`. */
async function openLoop(channel: Channel, rate: number, durationMs: number, countFromMs: number): Promise<Outcome> {
  const outcome: Outcome = { sent: new Map(), ok: new Map(), latencies: [], failures: {} };
  const running: Promise<void>[] = [];
  const start = performance.now();
  let due = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = performance.now() - start;
      const target = Math.floor((rate * Math.min(elapsed, durationMs)) / 1000);
      for (; due < target; due++) {
        const business = pickBusiness();
        const counted = (due * 1000) / rate >= countFromMs;
        const begin = performance.now();
        running.push(
          burnCall(channel, business).then((failed) => {
            if (!counted) return;
            outcome.sent.set(business, (outcome.sent.get(business) ?? 0) + 1);
            if (failed === null) {
              outcome.ok.set(business, (outcome.ok.get(business) ?? 0) + 1);
              outcome.latencies.push(performance.now() - begin);
            } else {
              outcome.failures[failed] = (outcome.failures[failed] ?? 0) + 1;
            }
          }),
        );
      }
      if (elapsed >= durationMs) {
        clearInterval(tick);
        resolve();
      }
    }, TICK_MS);
  });
  await Promise.all(running);
  return outcome;
}

/** The share of the mix that `level` admits. */
export function admittedShare(level: number): number {
  let share = 0;
  for (const [business, weight] of MIX) {
    const users = Math.max(0, Math.min(USER_LEVELS, level - business * USER_LEVELS + 1));
    share += (weight * users) / USER_LEVELS;
  }
  return share;
}

/**
 * From the phase's start, when the admitted share entered, for good, ±5 points of its steady
 * value (the median over the phase's second half).
 */
function settleTime(samples: readonly WindowSample[], phaseStart: number): number | null {
  if (samples.length === 0) return null;
  const final = percentile(
    samples.slice(Math.floor(samples.length / 2)).map((s) => admittedShare(s.level)),
    0.5,
  );
  let settled: number | null = 0;
  for (const { at, level } of samples) {
    if (Math.abs(admittedShare(level) - final) > 0.05) settled = null;
    else settled ??= at - phaseStart;
  }
  return settled;
}

/**
 * The spread of the admitted share while the phase is counted (from `countFrom`): its 10th and
 * 90th percentiles, over the service's windows. A level that has settled keeps them a few points
 * apart; a sawtooth shows as their distance. Null without windows (under `--workers`).
 */
function swing(samples: readonly WindowSample[], countFrom: number): [number, number] | null {
  const shares = samples.filter((s) => s.at >= countFrom).map((s) => admittedShare(s.level));
  if (shares.length === 0) return null;
  return [percentile(shares, 0.1), percentile(shares, 0.9)];
}

function pct(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

if (process.argv[1]?.endsWith('cpu-spike.ts')) await main(process.argv.slice(2));
