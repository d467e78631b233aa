/**
 * Service E of the overload experiment: a handler with a fixed number of slots and a fixed
 * service time, so its capacity is known exactly (slots × 1000 / serviceMs calls per second,
 * whatever the machine's noise). The CPU-bound variant is cpu-service.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer, defineService, method, type PolicyName, type Server } from 'corpc';

export const E = defineService('E', {
  work: method<{ ms: number }, { ok: true }>(),
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
    async work({ ms }) {
      await sleep(ms);
      return { ok: true as const };
    },
  });
  const { port } = await server.listen({ port: 0 });
  return { server, target: `127.0.0.1:${port}` };
}
