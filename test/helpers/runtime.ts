import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A `corpc run` process group started by a test, with the ports it printed. */
/** `corpc run`'s three listening ports, each on a free one the system picks. */
export const FREE_PORTS = ['--port', '0', '--http-port', '0', '--admin-port', '0'];

export interface RunningRuntime {
  child: ChildProcess;
  /** Unit name → port. */
  units: Record<string, number>;
  httpPort: number | null;
  adminPort: number;
  /** The curl line it printed, if any. */
  curl: string | null;
  output(): string;
  errors(): string;
  admin(path: string): Promise<Response>;
  exited(): Promise<number | null>;
}

/**
 * Starts `corpc run <module>` with free ports (`--port 0 --http-port 0 --admin-port 0`) and
 * waits for its banner. Extra flags and environment as given. `command` replaces the default
 * command line (e.g. the `npm start` one).
 */
export async function startRuntime(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; command?: string[] } = {},
): Promise<RunningRuntime> {
  const command = options.command ?? [
    process.execPath,
    '--conditions=corpc-source',
    '--import',
    'tsx',
    'runtime/cli.ts',
    'run',
  ];
  const child = spawn(command[0]!, [...command.slice(1), ...args], {
    cwd: root,
    env: { ...process.env, CORPC_LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  while (!out.includes('Ctrl-C drains and stops.')) {
    if (child.exitCode !== null) throw new Error(`corpc run exited with ${child.exitCode}:\n${out}\n${err}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`corpc run did not start in time:\n${out}\n${err}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const units: Record<string, number> = {};
  for (const match of out.matchAll(/^ {2}unit (\S+)\s+\S+:(\d+)/gm)) units[match[1]!] = Number(match[2]);
  const http = /^ {2}http entry\s+http:\/\/\S+:(\d+)/m.exec(out);
  const admin = /^ {2}admin\s+http:\/\/\S+:(\d+)/m.exec(out);
  const adminPort = Number(admin?.[1]);
  return {
    child,
    units,
    httpPort: http === null ? null : Number(http[1]),
    adminPort,
    curl: /^curl .*$/m.exec(out)?.[0] ?? null,
    output: () => out,
    errors: () => err,
    admin: (path) => fetch(`http://127.0.0.1:${adminPort}${path}`),
    exited: () => exit,
  };
}

/** Stops a runtime (SIGKILL to the supervisor; its workers leave when their IPC channel closes). */
export async function killRuntime(runtime: RunningRuntime): Promise<void> {
  if (runtime.child.exitCode !== null || runtime.child.signalCode !== null) return;
  runtime.child.kill('SIGKILL');
  await once(runtime.child, 'exit');
}

/** Drains the group (SIGTERM) and waits for it to exit; SIGKILL after 15 s. */
export async function stopRuntime(runtime: RunningRuntime): Promise<void> {
  if (runtime.child.exitCode !== null || runtime.child.signalCode !== null) return;
  runtime.child.kill('SIGTERM');
  const timer = setTimeout(() => runtime.child.kill('SIGKILL'), 15_000);
  await once(runtime.child, 'exit');
  clearTimeout(timer);
}

/** Requests the group's workers have read and not yet answered (from /metrics). */
export async function inFlight(runtime: RunningRuntime): Promise<number> {
  return metricSum(await (await runtime.admin('/metrics')).text(), 'corpc_server_in_flight');
}

/** Sums the samples of a metric in Prometheus text whose labels include all of `labels`. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const wanted = Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`));
    if (wanted) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
