import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cpuPinning } from '../machine.ts';
import type { LoadFigures, LoadRequest } from './client-process.ts';
import type { SystemName } from './system.ts';

/**
 * Runs the echo of several systems side by side: each system's server in one process and its load
 * generator in another (pinned to separate CPUs when possible), all started once; then, for each
 * in-flight level and round, the systems take turns, so that a slow minute of a shared machine
 * hurts them alike. `echo` and `compare` are both this runner with different systems.
 */

export interface MatrixOptions {
  systems: readonly SystemName[];
  inflights: readonly number[];
  /** Runs per system and level; the median (by throughput) is reported. */
  rounds: number;
  warmupMs: number;
  durationMs: number;
  /** Connections each client opens to its server. */
  connections: number;
  /** Progress lines go here (stderr by default). */
  log?: (line: string) => void;
}

export interface MatrixRow extends Omit<LoadFigures, 'sent'> {
  system: SystemName;
  inflight: number;
}

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

/** Extra node flags for the server and client processes, e.g. `--cpu-prof --cpu-prof-dir=prof`. */
const childFlags = (process.env.CORPC_BENCH_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== '');

function spawnNode(file: string, args: string[], cpu: string | undefined, ipc: boolean): ChildProcess {
  const node = [process.execPath, ...childFlags, '--conditions=corpc-source', '--import', 'tsx', file, ...args];
  const [command, ...rest] = cpu === undefined ? node : ['taskset', '-c', cpu, ...node];
  return spawn(command!, rest, { stdio: ipc ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['pipe', 'pipe', 'inherit'] });
}

class Pair {
  private constructor(
    readonly system: SystemName,
    private readonly server: ChildProcess,
    private readonly client: ChildProcess,
  ) {}

  static async start(system: SystemName, connections: number): Promise<Pair> {
    const pinning = cpuPinning();
    const server = spawnNode(here('./server-process.ts'), [system], pinning?.server, false);
    const port = await new Promise<number>((resolve, reject) => {
      const lines = createInterface({ input: server.stdout! });
      lines.on('line', (line) => {
        const match = /^listening (\d+)$/.exec(line);
        if (match !== null) resolve(Number(match[1]));
      });
      server.on('exit', (code) => reject(new Error(`${system} server exited (${code}) before listening`)));
    });
    const client = spawnNode(
      here('./client-process.ts'),
      [system, `127.0.0.1:${port}`, String(connections)],
      pinning?.client,
      true,
    );
    const [ready] = (await Promise.race([
      once(client, 'message'),
      once(client, 'exit').then(([code]) => {
        throw new Error(`${system} load generator exited (${code}) before connecting`);
      }),
    ])) as [unknown];
    if ((ready as { ready?: boolean }).ready !== true) throw new Error(`${system} load generator: unexpected ${String(ready)}`);
    return new Pair(system, server, client);
  }

  async run(request: LoadRequest): Promise<LoadFigures> {
    this.client.send(request);
    const [figures] = (await once(this.client, 'message')) as [LoadFigures];
    return figures;
  }

  async stop(): Promise<void> {
    const exits = [this.client, this.server]
      .filter((child) => child.exitCode === null && child.signalCode === null)
      .map((child) => once(child, 'exit'));
    if (this.client.connected) this.client.disconnect();
    this.server.stdin?.end();
    const timer = setTimeout(() => {
      this.client.kill('SIGKILL');
      this.server.kill('SIGKILL');
    }, 5000);
    await Promise.all(exits);
    clearTimeout(timer);
  }
}

export async function runMatrix(options: MatrixOptions): Promise<MatrixRow[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const pairs: Pair[] = [];
  try {
    for (const system of options.systems) pairs.push(await Pair.start(system, options.connections));
    const rows: MatrixRow[] = [];
    for (const inflight of options.inflights) {
      const runs = new Map<SystemName, LoadFigures[]>();
      for (let round = 0; round < options.rounds; round++) {
        // Alternate, and rotate who goes first, so no system always follows the same neighbour.
        for (let i = 0; i < pairs.length; i++) {
          const pair = pairs[(i + round) % pairs.length]!;
          const figures = await pair.run({ inflight, warmupMs: options.warmupMs, durationMs: options.durationMs });
          log(
            `  ${pair.system.padEnd(8)} ${String(inflight).padStart(5)} in flight, round ${round + 1}/${options.rounds}: ` +
              `${Math.round(figures.requests_per_s).toLocaleString('en-US')} req/s, p99 ${figures.p99_ms.toFixed(2)} ms`,
          );
          runs.set(pair.system, [...(runs.get(pair.system) ?? []), figures]);
        }
      }
      for (const system of options.systems) {
        const figures = runs.get(system)!;
        const median = [...figures].sort((a, b) => a.requests_per_s - b.requests_per_s)[Math.floor(figures.length / 2)]!;
        rows.push({
          system,
          inflight,
          requests_per_s: Math.round(median.requests_per_s),
          p50_ms: round3(median.p50_ms),
          p99_ms: round3(median.p99_ms),
          errors: figures.reduce((sum, f) => sum + f.errors, 0),
        });
      }
    }
    return rows;
  } finally {
    await Promise.all(pairs.map((pair) => pair.stop()));
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** `{ system, inflight }` → row, for ratios. */
export function rowOf(rows: readonly MatrixRow[], system: SystemName, inflight: number): MatrixRow | undefined {
  return rows.find((row) => row.system === system && row.inflight === inflight);
}

/** A plain text table; numbers right-aligned. */
export function formatTable(head: readonly string[], body: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export const formatRate = (value: number): string => Math.round(value).toLocaleString('en-US');
export const formatMs = (value: number): string => value.toFixed(3);
