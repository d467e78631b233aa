import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
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
 *
 * Before the first level, each system serves an uncounted load (WARM_UP_INFLIGHT in flight for
 * the warm-up time): a fresh process compiles its hot code on V8's background threads, and that CPU
 * went into the first level's figures, the more so the more code a system runs (corpc's server at
 * one call in flight: 40–47 µs per request in its first run of 1 + 3 s, 32–35 µs in the next two;
 * bare's 25–28 µs, then 23–26 µs).
 */

/** In flight during the uncounted warm-up of each system. */
const WARM_UP_INFLIGHT = 16;

export interface MatrixOptions {
  systems: readonly SystemName[];
  inflights: readonly number[];
  /** Runs per system and level; the median (by throughput) is reported. */
  rounds: number;
  warmupMs: number;
  durationMs: number;
  /** Connections each client opens to its server. */
  connections: number;
  /** The node binary of the server and load processes (default: this one). */
  node?: string;
  /** Progress lines go here (stderr by default). */
  log?: (line: string) => void;
}

/** One system at one level: the figures of the median round. */
export interface MatrixRow {
  system: SystemName;
  inflight: number;
  requests_per_s: number;
  p50_ms: number;
  p99_ms: number;
  /** Server CPU time (its whole process tree, user + system) over the run, per request answered. */
  server_cpu_us_per_req: number;
  /** The load generator's CPU time over the run, per request answered (the other side of the pair). */
  client_cpu_us_per_req: number;
  /** Failed requests, summed over the rounds. */
  errors: number;
}

/** One round's figures, with the server's CPU per request. */
interface RoundFigures extends LoadFigures {
  serverCpuUsPerReq: number;
}

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

/** Extra node flags for the server and client processes, e.g. `--cpu-prof --cpu-prof-dir=prof`. */
const childFlags = (process.env.CORPC_BENCH_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== '');

/**
 * corpc from its sources (TypeScript through tsx), or with CORPC_BENCH_BUILT=1 from dist/ (`npm
 * run build`), as a project that installed the tarball gets it. (corpc-run's `corpc` command runs
 * the sources in a checkout either way.)
 */
const conditions = process.env.CORPC_BENCH_BUILT === '1' ? [] : ['--conditions=corpc-source'];

function spawnNode(binary: string, file: string, args: string[], cpu: string | undefined, ipc: boolean): ChildProcess {
  const node = [binary, ...childFlags, ...conditions, '--import', 'tsx', file, ...args];
  const [command, ...rest] = cpu === undefined ? node : ['taskset', '-c', cpu, ...node];
  return spawn(command!, rest, { stdio: ipc ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['pipe', 'pipe', 'inherit'] });
}

class Pair {
  /** Waiting for the server's next `cpu <µs>` line. */
  private cpuWaiters: ((micros: number) => void)[] = [];

  private constructor(
    readonly system: SystemName,
    private readonly server: ChildProcess,
    private readonly client: ChildProcess,
    lines: ReturnType<typeof createInterface>,
  ) {
    lines.on('line', (line) => {
      const match = /^cpu (\d+(?:\.\d+)?)$/.exec(line);
      if (match !== null) this.cpuWaiters.shift()?.(Number(match[1]));
    });
  }

  static async start(system: SystemName, connections: number, binary: string): Promise<Pair> {
    const pinning = cpuPinning();
    const server = spawnNode(binary, here('./server-process.ts'), [system], pinning?.server, false);
    const lines = createInterface({ input: server.stdout! });
    const port = await new Promise<number>((resolve, reject) => {
      lines.on('line', (line) => {
        const match = /^listening (\d+)$/.exec(line);
        if (match !== null) resolve(Number(match[1]));
      });
      server.on('exit', (code) => reject(new Error(`${system} server exited (${code}) before listening`)));
    });
    const client = spawnNode(
      binary,
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
    if ((ready as { ready?: boolean }).ready !== true)
      throw new Error(`${system} load generator: unexpected ${String(ready)}`);
    return new Pair(system, server, client, lines);
  }

  /** CPU µs the server's process tree has spent so far. */
  private serverCpu(): Promise<number> {
    return new Promise((resolve) => {
      this.cpuWaiters.push(resolve);
      this.server.stdin!.write('cpu\n');
    });
  }

  async run(request: LoadRequest): Promise<RoundFigures> {
    const cpuBefore = await this.serverCpu();
    this.client.send(request);
    const [figures] = (await once(this.client, 'message')) as [LoadFigures];
    const cpu = (await this.serverCpu()) - cpuBefore;
    return { ...figures, serverCpuUsPerReq: figures.answered > 0 ? cpu / figures.answered : 0 };
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
    for (const system of options.systems)
      pairs.push(await Pair.start(system, options.connections, options.node ?? process.execPath));
    for (const pair of pairs) await pair.run({ inflight: WARM_UP_INFLIGHT, warmupMs: 0, durationMs: options.warmupMs });
    log(`  each system warmed up for ${options.warmupMs} ms at ${WARM_UP_INFLIGHT} in flight (not counted)`);
    const rows: MatrixRow[] = [];
    for (const inflight of options.inflights) {
      const runs = new Map<SystemName, RoundFigures[]>();
      for (let round = 0; round < options.rounds; round++) {
        // Alternate, and rotate who goes first, so no system always follows the same neighbour.
        for (let i = 0; i < pairs.length; i++) {
          const pair = pairs[(i + round) % pairs.length]!;
          const figures = await pair.run({ inflight, warmupMs: options.warmupMs, durationMs: options.durationMs });
          log(
            `  ${pair.system.padEnd(15)} ${String(inflight).padStart(5)} in flight, round ${round + 1}/${options.rounds}: ` +
              `${Math.round(figures.requests_per_s).toLocaleString('en-US')} req/s, p99 ${figures.p99_ms.toFixed(2)} ms, ` +
              `server ${figures.serverCpuUsPerReq.toFixed(1)} µs CPU/req`,
          );
          runs.set(pair.system, [...(runs.get(pair.system) ?? []), figures]);
        }
      }
      for (const system of options.systems) {
        const figures = runs.get(system)!;
        const median = [...figures].sort((a, b) => a.requests_per_s - b.requests_per_s)[
          Math.floor(figures.length / 2)
        ]!;
        rows.push({
          system,
          inflight,
          requests_per_s: Math.round(median.requests_per_s),
          p50_ms: round3(median.p50_ms),
          p99_ms: round3(median.p99_ms),
          server_cpu_us_per_req: round2(median.serverCpuUsPerReq),
          client_cpu_us_per_req: round2(median.answered > 0 ? median.cpuMicros / median.answered : 0),
          errors: figures.reduce((sum, f) => sum + f.errors, 0),
        });
      }
    }
    return rows;
  } finally {
    await Promise.all(pairs.map((pair) => pair.stop()));
  }
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
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

/** `node vX.Y.Z` of the binary the servers and load generators run on. */
export function nodeVersionOf(binary: string): string {
  return binary === process.execPath
    ? process.version
    : execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
}

export const formatRate = (value: number): string => Math.round(value).toLocaleString('en-US');
export const formatMs = (value: number): string => value.toFixed(3);
