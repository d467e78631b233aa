/**
 * Micro benchmark: the per-request admission decision (controller.arrive), and, over a real
 * loopback socket, the server CPU cost of a request rejected from its header vs one served.
 * `node --conditions=corpc-source --import tsx bench/micro/admission.ts`. Prints figures, asserts nothing.
 */
import { ADMIT_ALL, AdmissionController, createChannel, createServer, defineService, method } from 'corpc';

const N = 1_000_000;
console.log(`# admission micro benchmark · node ${process.version}`);

const controller = new AdmissionController({ policy: 'dagor', windowRequests: 1_000_000_000, windowMs: 1_000_000 });
const counters = controller.methodCounters('M/m');
let t = performance.now();
for (let i = 0; i < N; i++) controller.arrive(i & ADMIT_ALL, t, counters);
console.log(`decision (arrive): ${(((performance.now() - t) * 1e6) / N).toFixed(1)} ns/request`);
t = performance.now();
controller.endWindow(t + 1);
console.log(`window end (one histogram walk + metrics): ${((performance.now() - t) * 1000).toFixed(1)} µs`);

const S = defineService('S', { m: method<{ pad: string }, { ok: boolean }>() });
async function serverCpuPerCall(level: number): Promise<number> {
  const server = createServer().addService(S, { m: async () => ({ ok: true }) });
  (server.admission.policy as { level: number }).level = level;
  const { port } = await server.listen({ port: 0 });
  const channel = createChannel(`127.0.0.1:${port}`, { maxRetries: 0, admissionLevelTtlMs: 1 });
  const calls = 20_000;
  const start = process.cpuUsage();
  for (let batch = 0; batch < calls / 100; batch++) {
    await Promise.allSettled(Array.from({ length: 100 }, () => channel.call(S.methods.m, { pad: 'x'.repeat(64) }, { businessPriority: 10 })));
  }
  const used = process.cpuUsage(start);
  channel.destroy();
  await server.close(0);
  return (used.user + used.system) / calls;
}
// Client and server share this process: the figures are per round trip, both sides included, with a
// trivial handler and a 64-byte body (a real handler makes the served side far dearer).
const served = await serverCpuPerCall(ADMIT_ALL);
const rejected = await serverCpuPerCall(0);
console.log(`served round trip: ${served.toFixed(1)} µs CPU · rejected from the header: ${rejected.toFixed(1)} µs CPU (${((rejected / served) * 100).toFixed(0)}%)`);
