/**
 * `npm run bench -- spike [--quick] [--json FILE]`: M^1 load steps 0.8x → 1.4x → 10x → 0.8x of
 * E's capacity; 5% of the tasks have the highest business priority (0), the rest 10. Per
 * phase: success of the highest priority and of the rest, and how long the admission level took
 * to settle (the first moment after which every later sample stays within 5% of the phase's
 * final admitted share).
 */
import { ADMIT_ALL } from 'corpc';
import { header, parseFlags, runPhase, startEnvironment, table, writeJson, type Environment } from './harness.ts';

const STEPS = [0.8, 1.4, 10, 0.8];

export async function main(argv: string[]): Promise<void> {
  const flags = parseFlags(argv);
  const phaseMs = flags.quick ? 3000 : 8000;
  const policies = argv.includes('--policies') ? flags.policies : (['dagor'] as const);
  header('spike: 0.8x → 1.4x → 10x → 0.8x');
  const rows: { policy: string; load: number; topSuccess: number; restSuccess: number; settleMs: number | null }[] = [];
  for (const policy of policies) {
    const env = await startEnvironment(policy, false);
    try {
      for (const load of STEPS) {
        const feed = load * env.capacity;
        const samples: [number, number][] = [];
        const start = performance.now();
        const sampler = setInterval(() => samples.push([performance.now() - start, meanLevel(env)]), 50);
        const r = await runPhase(env, [{ x: 1, feed: feed * 0.05, business: 0 }, { x: 1, feed: feed * 0.95, business: 10 }], phaseMs);
        clearInterval(sampler);
        rows.push({
          policy,
          load,
          topSuccess: r.succeeded[0]! / Math.max(1, r.tasks[0]!),
          restSuccess: r.succeeded[1]! / Math.max(1, r.tasks[1]!),
          settleMs: settleTime(samples),
        });
      }
    } finally {
      await env.close();
    }
  }
  console.log(
    table([
      ['policy', 'load', 'B=0 success', 'B=10 success', 'level settled after'],
      ...rows.map((r) => [r.policy, r.load, pct(r.topSuccess), pct(r.restSuccess), r.settleMs === null ? 'never' : `${r.settleMs.toFixed(0)} ms`]),
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
