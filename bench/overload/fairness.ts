/**
 * `npm run bench -- fairness [--quick] [--json FILE]`: a mix of M^1..M^4 tasks offering 2x E's
 * capacity in total (each type a quarter of the calls); success rate per workload type, per
 * policy. DAGOR sheds whole tasks by user priority, so every type gets about the same rate;
 * policies that shed calls independently favour M^1.
 */
import { header, measureSteady, parseFlags, startEnvironment, table, writeJson } from './harness.ts';

export async function main(argv: string[]): Promise<void> {
  const flags = parseFlags(argv);
  const warmupMs = flags.quick ? 1000 : 4000;
  const measureMs = flags.quick ? 2000 : 5000;
  header('fairness: mixed M^1..M^4 at 2x capacity');
  const rows: { policy: string; x: number; success: number }[] = [];
  for (const policy of flags.policies) {
    const env = await startEnvironment(policy, flags.cpu);
    try {
      const types = [1, 2, 3, 4].map((x) => ({ x, feed: (2 * env.capacity) / 4 / x }));
      const r = await measureSteady(env, types, warmupMs, measureMs);
      types.forEach((type, t) => {
        rows.push({ policy, x: type.x, success: r.succeeded[t]! / Math.max(1, r.tasks[t]!) });
      });
    } finally {
      await env.close();
    }
  }
  const byPolicy = flags.policies.map((policy) => [
    policy,
    ...[1, 2, 3, 4].map((x) => `${(rows.find((r) => r.policy === policy && r.x === x)!.success * 100).toFixed(1)}%`),
  ]);
  console.log(table([['policy', 'M^1', 'M^2', 'M^3', 'M^4'], ...byPolicy]));
  writeJson(flags.json, { node: process.version, rows });
}

if (process.argv[1]?.endsWith('fairness.ts')) await main(process.argv.slice(2));
