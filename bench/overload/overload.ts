/**
 * `npm run bench -- overload [--quick] [--json FILE] [--svg DIR] [--cpu] [--policies a,b]`:
 * the paper's experiment. For each policy, x = 1..4 and each load (offered calls to E / E's
 * capacity = x·f/C), task success rate beside the optimum min(1, C/(x·f)), goodput (useful E
 * calls / capacity), p99 task latency, and wasted calls (E calls served for tasks that failed,
 * as a fraction of E calls served).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  TASK_DEADLINE_MS,
  header,
  parseFlags,
  percentile,
  runSchedule,
  startEnvironment,
  table,
  writeJson,
} from './harness.ts';

export interface Row {
  policy: string;
  x: number;
  load: number;
  success: number;
  optimum: number;
  goodput: number;
  p99_ms: number;
  wasted: number;
}

export async function main(argv: string[]): Promise<void> {
  const flags = parseFlags(argv);
  const loads = flags.quick ? [1, 2, 4] : [0.5, 1, 1.5, 2, 3, 4, 10];
  // Per policy and x, one E runs the loads in ascending order without a pause: for each load a
  // warm-up (the first covers the transient from "admit all" to the steady level, ~2 s at x = 4
  // with 200 ms windows; later ones start from the previous load's level), the measured step,
  // and a tail of one task deadline at the same load, so the measured tasks finish under it.
  const firstWarmupMs = flags.quick ? 1000 : 4000;
  const warmupMs = flags.quick ? 1800 : 4000;
  const measureMs = flags.quick ? 1200 : 5000;
  header(`overload: M^x against E${flags.cpu ? ' (CPU-bound)' : ''}, ${flags.quick ? 'quick' : 'full'} sweep`);
  const rows: Row[] = [];
  for (const policy of flags.policies) {
    for (let x = 1; x <= 4; x++) {
      const env = await startEnvironment(policy, flags.cpu);
      try {
        const steps = loads.flatMap((load, i) => {
          const types = [{ x, feed: (load * env.capacity) / x }];
          return [i === 0 ? firstWarmupMs : warmupMs, measureMs, TASK_DEADLINE_MS + 100].map((durationMs) => ({
            types,
            durationMs,
          }));
        });
        const results = await runSchedule(env, steps);
        loads.forEach((load, i) => {
          const r = results[3 * i + 1]!;
          const row: Row = {
            policy,
            x,
            load,
            success: r.succeeded[0]! / Math.max(1, r.tasks[0]!),
            optimum: Math.min(1, 1 / load),
            goodput: (r.succeeded[0]! * x * 1000) / measureMs / env.capacity,
            p99_ms: percentile(r.latencies, 0.99),
            wasted: r.served === 0 ? 0 : r.wasted / r.served,
          };
          rows.push(row);
          console.error(`${policy} x=${x} load=${load}: success ${pct(row.success)} (optimum ${pct(row.optimum)})`);
        });
      } finally {
        await env.close();
      }
    }
  }
  console.log(
    table([
      ['policy', 'x', 'load', 'success', 'optimum', 'goodput', 'p99_ms', 'wasted'],
      ...rows.map((r) => [
        r.policy,
        r.x,
        r.load,
        pct(r.success),
        pct(r.optimum),
        pct(r.goodput),
        r.p99_ms.toFixed(0),
        pct(r.wasted),
      ]),
    ]),
  );
  writeJson(flags.json, { node: process.version, rows });
  // The charts go with the JSON, under bench/out/ unless --svg says where (never the working directory).
  const svgDir = flags.svg ?? (flags.json !== null ? fileURLToPath(new URL('../out', import.meta.url)) : null);
  if (svgDir !== null) {
    mkdirSync(svgDir, { recursive: true });
    for (let x = 1; x <= 4; x++) {
      const file = join(svgDir, `overload-m${x}.svg`);
      writeFileSync(
        file,
        chart(
          rows.filter((r) => r.x === x),
          x,
        ),
      );
      console.log(`wrote ${file}`);
    }
  }
}

function pct(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

const COLORS = ['#888', '#e6a100', '#0072b2', '#009e73', '#cc79a7', '#d55e00', '#c00000'];

/** Success rate against load, one line per policy and the optimum dashed, like the paper's figure. */
export function chart(rows: readonly Row[], x: number): string {
  const W = 560;
  const H = 360;
  const left = 50;
  const bottom = 40;
  const loads = [...new Set(rows.map((r) => r.load))].sort((a, b) => a - b);
  const maxLoad = Math.max(...loads, 1);
  const px = (load: number): number => left + ((W - left - 130) * load) / maxLoad;
  const py = (success: number): number => H - bottom - (H - bottom - 20) * success;
  const line = (points: [number, number][], color: string, dash = ''): string =>
    `<polyline fill="none" stroke="${color}" stroke-width="2" ${dash} points="${points.map(([l, s]) => `${px(l).toFixed(1)},${py(s).toFixed(1)}`).join(' ')}"/>`;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<text x="${left}" y="14">M^${x}: task success rate vs load (node ${process.version})</text>`,
    `<line x1="${left}" y1="${py(0)}" x2="${px(maxLoad)}" y2="${py(0)}" stroke="#000"/>`,
    `<line x1="${left}" y1="${py(0)}" x2="${left}" y2="${py(1)}" stroke="#000"/>`,
  ];
  for (const s of [0, 0.25, 0.5, 0.75, 1]) parts.push(`<text x="${left - 35}" y="${py(s) + 4}">${s * 100}%</text>`);
  for (const l of loads) parts.push(`<text x="${px(l) - 8}" y="${py(0) + 16}">${l}x</text>`);
  parts.push(
    line(
      loads.map((l) => [l, Math.min(1, 1 / l)]),
      '#000',
      'stroke-dasharray="4 3"',
    ),
  );
  parts.push(`<text x="${W - 120}" y="30">optimum (dashed)</text>`);
  const policies = [...new Set(rows.map((r) => r.policy))];
  policies.forEach((policy, i) => {
    const color = COLORS[i % COLORS.length]!;
    const points = rows.filter((r) => r.policy === policy).map((r) => [r.load, r.success] as [number, number]);
    parts.push(line(points, color));
    parts.push(`<text x="${W - 120}" y="${48 + i * 16}" fill="${color}">${policy}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

if (process.argv[1]?.endsWith('overload.ts')) await main(process.argv.slice(2));
