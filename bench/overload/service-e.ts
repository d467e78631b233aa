/**
 * Service E of the overload experiment: a handler with a fixed number of slots and a fixed
 * service time, so its capacity is known exactly (slots × 1000 / serviceMs calls per second,
 * whatever the machine's noise), or a CPU-bound variant that burns `serviceMs` of CPU per call
 * (capacity ≈ 1000 / serviceMs per process). Run as a child process for the CPU-bound variant:
 * `node --conditions=corpc-source --import tsx bench/overload/service-e.ts --policy dagor --cpu`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer, defineService, method, type PolicyName, type Server } from 'corpc';

export const E = defineService('E', {
  work: method<{ ms: number; cpu: boolean }, { ok: true }>(),
});

export interface EOptions {
  policy: PolicyName;
  /** Handler slots (the server's concurrency). */
  slots: number;
  windowMs: number;
}

export async function startE(options: EOptions): Promise<{ server: Server; target: string }> {
  const server = createServer({
    concurrency: options.slots,
    admission: { policy: options.policy, windowMs: options.windowMs },
  }).addService(E, {
    async work({ ms, cpu }) {
      if (cpu) {
        const end = performance.now() + ms;
        while (performance.now() < end);
      } else {
        await sleep(ms);
      }
      return { ok: true as const };
    },
  });
  const { port } = await server.listen({ port: 0 });
  return { server, target: `127.0.0.1:${port}` };
}

if (process.argv[1]?.endsWith('service-e.ts')) {
  const arg = (name: string, fallback: string): string => {
    const i = process.argv.indexOf(`--${name}`);
    return i === -1 ? fallback : process.argv[i + 1]!;
  };
  const { target } = await startE({
    policy: arg('policy', 'dagor') as PolicyName,
    slots: Number(arg('slots', '1024')),
    windowMs: Number(arg('window-ms', '200')),
  });
  console.log(`listening ${target}`);
}
