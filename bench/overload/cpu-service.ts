/**
 * The CPU-bound service of `cpu-spike` (and `overload --cpu`): `Burn/burn` spins the CPU for
 * `ms`, the way handlers that parse, render, hash or serialise do; with `--mixed`, it first awaits
 * a downstream call (a sleep-based service in the same process, standing for a database or
 * another tier) and then burns. `createServer()` keeps its defaults unless `--policy` names
 * another policy: what a user gets.
 *
 * Run as its own process (pinned to a core by the bench):
 * `node --conditions=corpc-source --import tsx bench/overload/cpu-service.ts [--policy P] [--mixed]`.
 * It prints `listening HOST:PORT`, and over IPC (when it has a channel) every closed admission
 * window as `{ at, level, loopDelayMs, avgQueuingMs }` (`at`: Date.now()).
 */
import { subscribe } from 'node:diagnostics_channel';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ADMISSION_WINDOW_CHANNEL,
  createClient,
  createServer,
  defineService,
  method,
  type AdmissionMetrics,
  type PolicyName,
  type ServerOptions,
} from 'corpc';

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

export interface CpuServiceOptions {
  policy?: PolicyName;
  /** Await a downstream call of `downstreamMs` before burning. */
  mixed?: boolean;
  downstreamMs?: number;
}

export async function startCpuService(options: CpuServiceOptions = {}): Promise<{ target: string; close(): Promise<void> }> {
  const serverOptions: ServerOptions = options.policy === undefined ? {} : { admission: { policy: options.policy } };
  let closeDownstream = async (): Promise<void> => {};
  let wait: ((ms: number) => Promise<unknown>) | null = null;
  if (options.mixed === true) {
    const downstream = createServer().addService(Downstream, {
      async wait({ ms }) {
        await sleep(ms);
        return { ok: true as const };
      },
    });
    const { port } = await downstream.listen({ port: 0 });
    const client = createClient(Downstream, `127.0.0.1:${port}`);
    wait = (ms) => client.wait({ ms });
    closeDownstream = async () => {
      await client.close();
      await downstream.close(100);
    };
  }
  const downstreamMs = options.downstreamMs ?? 5;
  const server = createServer(serverOptions).addService(Burn, {
    async burn({ ms }) {
      if (wait !== null) await wait(downstreamMs);
      burnCpu(ms);
      return { ok: true as const };
    },
  });
  const { port } = await server.listen({ port: 0 });
  return {
    target: `127.0.0.1:${port}`,
    close: async () => {
      await server.close(100);
      await closeDownstream();
    },
  };
}

if (process.argv[1]?.endsWith('cpu-service.ts')) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(`--${name}`);
    return i === -1 ? undefined : process.argv[i + 1];
  };
  const { target } = await startCpuService({
    policy: arg('policy') as PolicyName | undefined,
    mixed: process.argv.includes('--mixed'),
  });
  if (process.send !== undefined) {
    subscribe(ADMISSION_WINDOW_CHANNEL, (message) => {
      const m = message as AdmissionMetrics;
      process.send!({ at: m.endedAt, level: m.level, loopDelayMs: m.loopDelayMs, avgQueuingMs: m.avgQueuingMs, utilization: m.utilization, overloaded: m.overloaded, arrived: m.arrived, admitted: m.admitted, started: m.started });
    });
  }
  console.log(`listening ${target}`);
}
