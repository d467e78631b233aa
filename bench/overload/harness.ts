/**
 * The overload experiment's harness (the paper's M^x workload against service E):
 * an entry that starts tasks at a fixed feed rate (open loop); each task calls E `x` times in a
 * row within one 500 ms deadline, and succeeds only if all its calls succeed. The entry assigns
 * each task a business priority and a user priority (hash of a user id), which every call of the
 * task inherits; rejected calls are retried by the channel (up to 3 times, within its budget).
 * E has two servers (as the paper's E ran on several), each with a fixed number of slots and a
 * fixed service time, so the capacity is known exactly. The CPU-bound variant (`--cpu`) is the
 * `cpu-spike` service instead: a handler that burns 2 ms of CPU, `createServer()` with its
 * defaults, in its own process pinned to CPU 0 while this process runs on CPU 1; its capacity is
 * measured at the start of each run by a closed loop.
 */
import { writeFileSync } from 'node:fs';
import { RpcError, createChannel, userPriority, withContext, type Channel, type PolicyName } from 'corpc';
import { POLICY_NAMES } from 'corpc/internal';
import { E, startE } from './service-e.ts';
import { BURN_MS, Burn, closedLoop, spawnCpuService } from './cpu-service.ts';

export const POLICIES: readonly PolicyName[] = POLICY_NAMES;
export const SERVICE_MS = 20;
export const SLOTS_PER_SERVER = 4;
export const SERVERS = 2;
/** E's capacity in calls per second (slot-bound variant). */
export const CAPACITY = (SERVERS * SLOTS_PER_SERVER * 1000) / SERVICE_MS;
export const TASK_DEADLINE_MS = 500;
const SECRET = 'bench-secret';
const WINDOW_MS = 200;

export interface TaskType {
  /** Calls to E per task. */
  x: number;
  /** Tasks per second. */
  feed: number;
  /** Business priority of this type's tasks (lower = more important). */
  business?: number;
}

export interface PhaseResult {
  /** Tasks started in the phase, per type. */
  tasks: number[];
  /** Of those, the tasks that succeeded (whenever they finished, even after the phase ended). */
  succeeded: number[];
  /** E calls answered OK that belonged to tasks (of this phase) that failed. */
  wasted: number;
  /** E calls answered OK for tasks of this phase. */
  served: number;
  latencies: number[];
  /** Why the failed tasks failed (the error's reason or code), per type. */
  failures: Record<string, number>[];
  durationMs: number;
}

/** One step of a schedule: task types at their feed rates for `durationMs`. */
export interface Step {
  types: readonly TaskType[];
  durationMs: number;
}

export interface Environment {
  channel: Channel;
  /** One call to E (inside the task's context). */
  call(): Promise<unknown>;
  /** The current admission level of every E server (the last window's, for the CPU-bound child). */
  levels(): number[];
  close(): Promise<void>;
  cpu: boolean;
  /** Calls per second E serves. */
  capacity: number;
}

/** Starts E (in process, or the CPU-bound service in a pinned child process) and a channel to it. */
export async function startEnvironment(policy: PolicyName, cpu: boolean): Promise<Environment> {
  if (cpu) {
    const service = await spawnCpuService(policy);
    // Measured with default options; the tasks' channel retries like the slot-bound one.
    const capacity = await closedLoop(service.channel, 8, 2000, 500, () => 0);
    const channel = createChannel(service.target, { maxRetries: 3 });
    return {
      channel,
      cpu,
      capacity,
      call: () => channel.call(Burn.methods.burn, { ms: BURN_MS }),
      levels: () => service.windows.slice(-1).map((w) => w.level),
      close: async () => {
        channel.destroy();
        await service.close();
      },
    };
  }
  const servers = await Promise.all(
    Array.from({ length: SERVERS }, () => startE({ policy, slots: SLOTS_PER_SERVER, windowMs: WINDOW_MS })),
  );
  const channel = createChannel(servers.map((s) => s.target).join(','), { maxRetries: 3 });
  return {
    channel,
    cpu,
    capacity: CAPACITY,
    call: () => channel.call(E.methods.work, { ms: SERVICE_MS }),
    levels: () => servers.map((s) => s.server.admission.policy.level),
    close: async () => {
      channel.destroy();
      await Promise.all(servers.map((s) => s.server.close(100)));
    },
  };
}

let userSequence = 0;

/**
 * Feeds the steps back to back without a pause (open loop, one clock), attributing every task to
 * the step in which it started, and returns once every task has finished. A step's figures thus
 * count exactly the tasks it started, including those that finish after it ended; to measure a
 * steady state, follow the measured step with a tail step of at least the task deadline at the
 * same load, so the measured tasks' last calls still compete with new arrivals instead of
 * draining alone (which would inflate success above the optimum).
 */
export async function runSchedule(
  env: Environment,
  steps: readonly Step[],
  onStep?: (index: number) => void,
): Promise<PhaseResult[]> {
  const results = steps.map(
    (step): PhaseResult => ({
      tasks: step.types.map(() => 0),
      succeeded: step.types.map(() => 0),
      wasted: 0,
      served: 0,
      latencies: [],
      failures: step.types.map(() => ({})),
      durationMs: step.durationMs,
    }),
  );
  const running: Promise<void>[] = [];
  for (let s = 0; s < steps.length; s++) {
    onStep?.(s);
    const { types, durationMs } = steps[s]!;
    const result = results[s]!;
    const started = performance.now();
    const due = types.map(() => 0);
    await new Promise<void>((resolve) => {
      const feed = (): void => {
        const elapsed = performance.now() - started;
        types.forEach((type, t) => {
          const target = Math.floor((type.feed * Math.min(elapsed, durationMs)) / 1000);
          for (; due[t]! < target; due[t]!++) {
            result.tasks[t]!++;
            running.push(runTask(env, type, t, result));
          }
        });
        if (elapsed >= durationMs) {
          clearInterval(tick);
          resolve();
        }
      };
      const tick = setInterval(feed, 5);
    });
  }
  await Promise.all(running);
  return results;
}

/** Runs tasks of the given types at their feed rates for `durationMs` (one step, no tail). */
export async function runPhase(env: Environment, types: readonly TaskType[], durationMs: number): Promise<PhaseResult> {
  return (await runSchedule(env, [{ types, durationMs }]))[0]!;
}

/** Warm up, measure, then keep the same load for a task deadline: the measured step's figures. */
export async function measureSteady(
  env: Environment,
  types: readonly TaskType[],
  warmupMs: number,
  measureMs: number,
): Promise<PhaseResult> {
  const steps = [warmupMs, measureMs, TASK_DEADLINE_MS + 100].map((durationMs) => ({ types, durationMs }));
  return (await runSchedule(env, steps))[1]!;
}

async function runTask(env: Environment, type: TaskType, t: number, result: PhaseResult): Promise<void> {
  const user = `user-${userSequence++ % 100_000}`;
  const begin = performance.now();
  let served = 0;
  let failure = '';
  const ok = await withContext(
    {
      timeoutMs: TASK_DEADLINE_MS,
      businessPriority: type.business ?? 10,
      userPriority: userPriority(user, SECRET),
      name: `M${type.x}`,
    },
    async () => {
      for (let i = 0; i < type.x; i++) {
        try {
          await env.call();
          served++;
        } catch (error) {
          failure = error instanceof RpcError ? (error.reason ?? error.code) : 'other';
          return false;
        }
      }
      return true;
    },
  );
  result.served += served;
  if (ok) {
    result.succeeded[t]!++;
    result.latencies.push(performance.now() - begin);
  } else {
    result.wasted += served;
    const failures = result.failures[t]!;
    failures[failure] = (failures[failure] ?? 0) + 1;
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** Command-line flags shared by the scenarios. */
export interface Flags {
  quick: boolean;
  json: string | null;
  svg: string | null;
  cpu: boolean;
  policies: PolicyName[];
}

export function parseFlags(argv: readonly string[]): Flags {
  const value = (name: string): string | null => {
    const i = argv.indexOf(`--${name}`);
    return i === -1 ? null : (argv[i + 1] ?? null);
  };
  const policies = value('policies');
  return {
    quick: argv.includes('--quick'),
    json: value('json'),
    svg: value('svg'),
    cpu: argv.includes('--cpu'),
    policies: policies === null ? [...POLICIES] : (policies.split(',') as PolicyName[]),
  };
}

export function header(title: string): void {
  console.log(`# ${title}`);
  console.log(
    `node ${process.version} · ${process.platform}/${process.arch} · E: ${SERVERS} servers × ${SLOTS_PER_SERVER} slots × ${SERVICE_MS} ms = ${CAPACITY} calls/s, admission window ${WINDOW_MS} ms ` +
      `(CPU variant: ${BURN_MS} ms of CPU a call, createServer() defaults, pinned to CPU 0, capacity measured per run) · task deadline ${TASK_DEADLINE_MS} ms`,
  );
}

export function writeJson(file: string | null, data: unknown): void {
  if (file !== null) writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
}

export function table(rows: readonly (readonly (string | number)[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r) => r.map((cell, c) => String(cell).padStart(widths[c]!)).join('  ')).join('\n');
}
