/**
 * A server whose handler burns the CPU (run in its own process by the admission tests, so the
 * load generator is not slowed down by the saturated event loop). Prints `port N`. With
 * `--light`, a second server in the same process carries a cheap method; prints `ports N M`.
 */
import { subscribe } from 'node:diagnostics_channel';
import { ADMISSION_WINDOW_CHANNEL, createServer, defineService, method, type AdmissionMetrics } from 'corpc';

export const CpuBound = defineService('CpuBound', {
  burn: method<{ ms: number }, { ok: true }>(),
  /** The admission windows closed so far (business priority 0: never shed). */
  windows: method<Record<string, never>, AdmissionMetrics[]>({ businessPriority: 0 }),
});

/** The second server's service: a call that costs next to nothing. */
export const Light = defineService('Light', { ping: method<Record<string, never>, { ok: true }>() });

const seen: AdmissionMetrics[] = [];

if (process.argv[1]?.endsWith('cpu-bound-server.ts')) {
  subscribe(ADMISSION_WINDOW_CHANNEL, (message) => void seen.push(message as AdmissionMetrics));
  const server = createServer({ concurrency: 1024, admission: { windowMs: 100 } }).addService(CpuBound, {
    async burn({ ms }) {
      const end = performance.now() + ms;
      while (performance.now() < end);
      return { ok: true as const };
    },
    async windows() {
      return seen;
    },
  });
  const { port } = await server.listen({ port: 0 });
  if (process.argv.includes('--light')) {
    const light = createServer({ admission: { windowMs: 100 } }).addService(Light, {
      ping: async () => ({ ok: true as const }),
    });
    console.log(`ports ${port} ${(await light.listen({ port: 0 })).port}`);
  } else {
    console.log(`port ${port}`);
  }
}
