/**
 * `npm run bench -- spike [--quick] [--json FILE]`: M^1 load steps 0.8x → 1.4x → 10x → 0.8x of
 * E's capacity; 5% of the tasks have the highest business priority (0), the rest 10. Per
 * phase: success of the highest priority and of the rest, and how long the admission level took
 * to settle (the first moment after which every later sample stays within 5% of the phase's
 * final admitted share).
 */
import {
  TASK_DEADLINE_MS,
  header,
  parseFlags,
  runSchedule,
  startEnvironment,
  table,
  writeJson,
  type Environment,
  type TaskType,
} from './harness.ts';
import { ADMIT_ALL } from 'corpc/internal';

const STEPS = [0.8, 1.4, 10, 0.8];

export async function main(argv: string[]): Promise<void> {
  const flags = parseFlags(argv);
  const phaseMs = flags.quick ? 3000 : 8000;
  const policies = argv.includes('--policies') ? flags.policies : (['dagor'] as const);
  header('spike: 0.8x → 1.4x → 10x → 0.8x');
  const rows: {
    policy: string;
    load: number;
    topSuccess: number;
    restSuccess: number;
    settleMs: number | null;
    topFailures: Record<string, number>;
  }[] = [];
  for (const policy of policies) {
    const env = await startEnvironment(policy, false);
    try {
      const mix = (load: number): TaskType[] => {
        const feed = load * env.capacity;
        return [
          { x: 1, feed: feed * 0.05, business: 0 },
          { x: 1, feed: feed * 0.95, business: 10 },
        ];
      };
      // The steps follow each other without a pause; the last load continues for a task deadline
      // so the last step's tasks finish under the same load. Tasks count for the step they started in.
      const steps = [
        ...STEPS.map((load) => ({ types: mix(load), durationMs: phaseMs })),
        { types: mix(STEPS.at(-1)!), durationMs: TASK_DEADLINE_MS + 100 },
      ];
      const samples: [number, number, number][] = [];
      let step = 0;
      let stepStart = performance.now();
      const sampler = setInterval(() => samples.push([step, performance.now() - stepStart, meanLevel(env)]), 50);
      const results = await runSchedule(env, steps, (index) => {
        step = index;
        stepStart = performance.now();
      });
      clearInterval(sampler);
      STEPS.forEach((load, i) => {
        const r = results[i]!;
        rows.push({
          policy,
          load,
          topSuccess: r.succeeded[0]! / Math.max(1, r.tasks[0]!),
          restSuccess: r.succeeded[1]! / Math.max(1, r.tasks[1]!),
          settleMs: settleTime(samples.filter(([s]) => s === i).map(([, at, level]) => [at, level])),
          topFailures: r.failures[0]!,
        });
      });
    } finally {
      await env.close();
    }
  }
  console.log(
    table([
      ['policy', 'load', 'B=0 success', 'B=10 success', 'level settled after', 'B=0 failures'],
      ...rows.map((r) => [
        r.policy,
        r.load,
        pct(r.topSuccess),
        pct(r.restSuccess),
        r.settleMs === null ? 'never' : `${r.settleMs.toFixed(0)} ms`,
        Object.entries(r.topFailures)
          .map(([reason, n]) => `${reason} ${n}`)
          .join(', ') || '-',
      ]),
    ]),
  );
  writeJson(flags.json, { node: process.version, rows });
}

function meanLevel(env: Environment): number {
  const levels = env.levels();
  return levels.length === 0 ? ADMIT_ALL : levels.reduce((a, b) => a + b, 0) / levels.length;
}

/** When the level entered, for good, a band of ±5% of the level range around its final value. */
function settleTime(samples: readonly [number, number][]): number | null {
  if (samples.length === 0) return null;
  const final = samples[samples.length - 1]![1];
  const band = 0.05 * ADMIT_ALL;
  let settled: number | null = null;
  for (const [at, level] of samples) {
    if (Math.abs(level - final) > band) settled = null;
    else settled ??= at;
  }
  return settled;
}

function pct(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

if (process.argv[1]?.endsWith('spike.ts')) await main(process.argv.slice(2));
