/**
 * The CPU-bound service of `cpu-spike` (and `overload --cpu`): `Burn/burn` spins the CPU for
 * `ms`, the way handlers that parse, render, hash or serialise do; with `--downstream ADDR`, it
 * first awaits a 5 ms call to a sleep-based service there (standing for a database or
 * another tier) and then burns. `createServer()` keeps its defaults unless `--policy` names
 * another policy: what a user gets.
 *
 * The benches run it as its own process pinned to CPU 0, with the load generator (their own
 * process) pinned to CPU 1 (`spawnCpuService`); by hand:
 * `node --conditions=corpc-source --import tsx bench/overload/cpu-service.ts [--policy P] [--downstream ADDR]`.
 * It prints `listening HOST:PORT`, and over IPC (when it has a channel) every closed admission
 * window (`at`: Date.now()).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { subscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  ADMISSION_WINDOW_CHANNEL,
  RpcError,
  USER_LEVELS,
  createChannel,
  createClient,
  createServer,
  defineService,
  method,
  withContext,
  type AdmissionMetrics,
  type Channel,
  type PolicyName,
  type ServerOptions,
} from 'corpc';
import { cpuPinning } from '../machine.ts';
import { startRuntime, stopRuntime } from '../../test/helpers/runtime.ts';

export const Burn = defineService('Burn', {
  burn: method<{ ms: number }, { ok: true }>(),
});

const Downstream = defineService('Downstream', {
  wait: method<{ ms: number }, { ok: true }>(),
});

/** Spins for `ms` of wall time on this thread. */
export function burnCpu(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** How long the downstream call of the mixed handler takes. */
const DOWNSTREAM_MS = 5;

/**
 * The sleep-based downstream of the mixed handler. The bench runs it in the load generator's
 * process (it needs no CPU), so the CPU-bound process holds one server, as a worker would.
 */
export async function startDownstream(): Promise<{ target: string; close(): Promise<void> }> {
  const server = createServer().addService(Downstream, {
    async wait({ ms }) {
      await sleep(ms);
      return { ok: true as const };
    },
  });
  const { port } = await server.listen({ port: 0 });
  return { target: `127.0.0.1:${port}`, close: () => server.close(100) };
}

/** The CPU-bound server; with `downstream`, each call first awaits that service. */
async function startCpuService(policy: PolicyName | undefined, downstream: string | undefined): Promise<string> {
  const serverOptions: ServerOptions = policy === undefined ? {} : { admission: { policy } };
  const client = downstream === undefined ? null : createClient(Downstream, downstream);
  const server = createServer(serverOptions).addService(Burn, {
    async burn({ ms }) {
      if (client !== null) await client.wait({ ms: DOWNSTREAM_MS });
      burnCpu(ms);
      return { ok: true as const };
    },
  });
  const { port } = await server.listen({ port: 0 });
  return `127.0.0.1:${port}`;
}

/** CPU time per call of the benches' CPU-bound service. */
export const BURN_MS = 2;
/** Every bench call's deadline (the paper's default timeout). */
export const DEADLINE_MS = 500;

/** What the benches see of an admission window of the service (sent over IPC). */
export interface WindowSample {
  at: number;
  level: number;
  avgQueuingMs: number;
  loopDelayMs: number;
  utilization: number;
  overloaded: boolean;
  arrived: number;
  admitted: number;
  started: number;
}

export interface SpawnedService {
  /** Its address, and a channel to it with default options. */
  target: string;
  channel: Channel;
  /** Every admission window the service closed so far. */
  windows: WindowSample[];
  /** Whether the service runs on CPU 0 and this process on CPU 1. */
  pinned: boolean;
  close(): Promise<void>;
}

/**
 * Starts the CPU-bound service in its own process on CPU 0, pins this process (the load
 * generator) to CPU 1 when `taskset` can, and opens a channel to it with default options.
 */
export async function spawnCpuService(policy: string, mixed = false): Promise<SpawnedService> {
  const pinned =
    cpuPinning() !== null && spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' }).status === 0;
  const downstream = mixed ? await startDownstream() : null;
  const script = fileURLToPath(import.meta.url);
  const nodeArgs = [
    '--conditions=corpc-source',
    '--import',
    'tsx',
    script,
    '--policy',
    policy,
    ...(downstream === null ? [] : ['--downstream', downstream.target]),
  ];
  const [command, args] = pinned
    ? ['taskset', ['-c', '0', process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const windows: WindowSample[] = [];
  child.on('message', (sample) => windows.push(sample as WindowSample));
  const target = await firstLine(child, /^listening (\S+)$/);
  const channel = createChannel(target);
  return {
    target,
    channel,
    windows,
    pinned,
    close: async () => {
      channel.destroy();
      child.kill('SIGKILL');
      if (child.exitCode === null) await once(child, 'exit');
      await downstream?.close();
    },
  };
}

/**
 * Starts the CPU-bound service under `corpc run --workers N` (cpu-unit.ts), each worker with its
 * own controller; nothing is pinned (N workers and the load generator share the machine's
 * cores). The channel opens N connections, so that node:cluster hands them to N workers.
 */
export async function runCpuService(policy: string, workers: number): Promise<SpawnedService> {
  const unit = fileURLToPath(new URL('./cpu-unit.ts', import.meta.url));
  const runtime = await startRuntime(
    [unit, '--workers', String(workers), '--port', '0', '--http-port', '0', '--admin-port', '0'],
    {
      env: { CORPC_ADMISSION_POLICY: policy },
    },
  );
  const target = `127.0.0.1:${runtime.units.burn}`;
  const channel = createChannel(target, { connectionsPerEndpoint: workers });
  return {
    target,
    channel,
    windows: [],
    pinned: false,
    close: async () => {
      channel.destroy();
      await stopRuntime(runtime);
    },
  };
}

async function firstLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  for await (const line of createInterface({ input: child.stdout! })) {
    const match = pattern.exec(line);
    if (match !== null) return match[1]!;
  }
  throw new Error('the CPU-bound service did not start');
}

/** One `Burn/burn` call of BURN_MS at business priority `business`, a random user priority, within DEADLINE_MS; null when it succeeded, else why not. */
export async function burnCall(channel: Channel, business: number): Promise<string | null> {
  const user = Math.floor(Math.random() * USER_LEVELS);
  try {
    await withContext({ timeoutMs: DEADLINE_MS, businessPriority: business, userPriority: user }, () =>
      channel.call(Burn.methods.burn, { ms: BURN_MS }),
    );
    return null;
  } catch (error) {
    return error instanceof RpcError ? (error.reason ?? error.code) : 'other';
  }
}

/**
 * `inFlight` calls back to back for `durationMs` (business priority from `business()`); returns
 * the OK/s after `warmupMs`. With 8 in flight the queue stays near 14 ms, under the 20 ms
 * threshold: what the worker serves at saturation, without overload control stepping in.
 */
export async function closedLoop(
  channel: Channel,
  inFlight: number,
  durationMs: number,
  warmupMs: number,
  business: () => number,
): Promise<number> {
  const start = performance.now();
  let ok = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() - start < durationMs) {
      const failed = await burnCall(channel, business());
      if (failed === null && performance.now() - start >= warmupMs) ok++;
      // A rejected call comes back at once: do not spin the loop on rejections.
      if (failed !== null) await sleep(1);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return (ok * 1000) / Math.max(1, durationMs - warmupMs);
}

if (process.argv[1]?.endsWith('cpu-service.ts')) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(`--${name}`);
    return i === -1 ? undefined : process.argv[i + 1];
  };
  const target = await startCpuService(arg('policy') as PolicyName | undefined, arg('downstream'));
  if (process.send !== undefined) {
    subscribe(ADMISSION_WINDOW_CHANNEL, (message) => {
      const m = message as AdmissionMetrics;
      const sample: WindowSample = {
        at: m.endedAt,
        level: m.level,
        avgQueuingMs: m.avgQueuingMs,
        loopDelayMs: m.loopDelayMs,
        utilization: m.utilization,
        overloaded: m.overloaded,
        arrived: m.arrived,
        admitted: m.admitted,
        started: m.started,
      };
      process.send!(sample);
    });
  }
  console.log(`listening ${target}`);
}
