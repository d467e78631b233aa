/**
 * Admission costs. In this process: the per-request decision (controller.arrive) and a window end
 * with full sample rings (the p99/p90 selection), beside the sort it replaced. Then the server's
 * own CPU per request, in a child process that runs only the server (the generated Echo:
 * MessagePack body decode + validation + a trivial handler) and reports `process.cpuUsage()`
 * over IPC, driven by a raw client that writes prebuilt REQUEST frames (no client-side admission
 * cache can short-circuit anything): served vs rejected from the header by the admission level.
 * `npm run bench -- micro admission`, or `node --conditions=corpc-source --import tsx bench/micro/admission.ts`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ADMIT_ALL, AdmissionController, createServer } from 'corpc';
import { percentile, protocol } from 'corpc/internal';
import { Echo, echoHandlers } from '../../services/echo/echo.ts';
import { requestFrame } from './frame-decode.ts';
import { measure, print, type MicroResult } from './measure.ts';

const { FrameKind, PREFACE } = protocol;

export async function main(): Promise<MicroResult[]> {
  const results: MicroResult[] = [];
  const controller = new AdmissionController({ policy: 'dagor', windowRequests: 1_000_000_000, windowMs: 1_000_000 });
  const counters = controller.methodCounters('M/m');
  const t = performance.now();
  results.push(await measure('decision (controller.arrive)', (i) => controller.arrive(i & ADMIT_ALL, t, counters)));
  const samples = Float64Array.from({ length: 2048 }, () => Math.random() * 50);
  const scratch = new Float64Array(2048);
  results.push(await measure('window p99 of 2,048 samples: quickselect (now)', () => percentile(samples, 2048, 0.99, scratch), 100));
  results.push(await measure('window p99 of 2,048 samples: sort (before)', () => samples.slice().sort()[2027], 100));
  const served = await serverCpuPerRequest(ADMIT_ALL);
  const rejected = await serverCpuPerRequest(0);
  results.push({ name: 'server CPU per request: served (Echo, decode + validate)', nsPerOp: served });
  results.push({ name: `server CPU per request: rejected by level (${((rejected / served) * 100).toFixed(0)}% of served)`, nsPerOp: rejected });
  return results;
}

const REQUESTS = 30_000;
const BATCH = 200;

/** The server's CPU (user + system, its own process) per request, in ns, at admission `level`. */
async function serverCpuPerRequest(level: number): Promise<number> {
  const child = fork(fileURLToPath(import.meta.url), ['--admission-server'], {
    execArgv: ['--conditions=corpc-source', '--import', 'tsx', ...(process.env.ADMISSION_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.ADMISSION_PROF] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const port = await ask<number>(child, { level });
    const socket = connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    socket.setNoDelay(true);
    socket.write(PREFACE);
    const batch = requestBatch();
    const answers = answerCounter(socket);
    await answers.run(batch, 2_000); // warm-up: JIT, buffers
    // The best of a few rounds: on a shared machine, noise only ever adds time.
    let best = Infinity;
    for (let round = 0; round < 4; round++) {
      const before = await ask<NodeJS.CpuUsage>(child, { cpu: true });
      await answers.run(batch, REQUESTS);
      const after = await ask<NodeJS.CpuUsage>(child, { cpu: true });
      best = Math.min(best, ((after.user - before.user + after.system - before.system) * 1000) / REQUESTS);
    }
    socket.destroy();
    return best;
  } finally {
    // The child exits when the channel closes (and writes its profile when run with ADMISSION_PROF=dir).
    if (child.exitCode === null) {
      child.disconnect();
      await once(child, 'exit');
    }
  }
}

/** BATCH prebuilt Echo/echo REQUEST frames (ids 1..BATCH, a 64-character text, business 10, user 50). */
function requestBatch(): Buffer {
  const header = ['Echo/echo', 5000, 10, 50, 'bench-trace-0001', null];
  return Buffer.concat(Array.from({ length: BATCH }, (_, i) => requestFrame(i + 1, header, { text: 'x'.repeat(64) })));
}

/** Sends `batch` repeatedly until `total` requests are answered (any answer frame counts). */
function answerCounter(socket: Socket): { run(batch: Buffer, total: number): Promise<void> } {
  let pending = Buffer.alloc(0);
  let prefaceLeft = PREFACE.length;
  let answered = 0;
  let wake: (() => void) | null = null;
  socket.on('data', (chunk: Buffer) => {
    let buf = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    if (prefaceLeft > 0) {
      const skip = Math.min(prefaceLeft, buf.length);
      prefaceLeft -= skip;
      buf = buf.subarray(skip);
    }
    let offset = 0;
    while (offset + 4 <= buf.length) {
      const length = buf.readUInt32BE(offset);
      if (offset + 4 + length > buf.length) break;
      const kind = buf[offset + 4];
      if (kind === FrameKind.RESPONSE || kind === FrameKind.ERROR) answered++;
      offset += 4 + length;
    }
    pending = Buffer.from(buf.subarray(offset));
    wake?.();
  });
  return {
    async run(batch, total) {
      for (let sent = 0; sent < total; sent += BATCH) {
        const target = answered + BATCH;
        socket.write(batch);
        while (answered < target) await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

function ask<T>(child: ChildProcess, message: object): Promise<T> {
  child.send(message);
  return new Promise((resolve) => child.once('message', (reply) => resolve(reply as T)));
}

async function serve(): Promise<void> {
  // One endless window: the level set by the parent stays put (no calm window raises it).
  const server = createServer({ admission: { windowMs: 3_600_000, windowRequests: 1_000_000_000 } }).addService(Echo, echoHandlers());
  process.on('disconnect', () => process.exit(0));
  process.on('message', async (message: { level?: number; cpu?: boolean }) => {
    if (message.level !== undefined) {
      (server.admission.policy as { level: number }).level = message.level;
      process.send!((await server.listen({ port: 0 })).port);
    } else if (message.cpu === true) {
      process.send!(process.cpuUsage());
    }
  });
}

if (process.argv.includes('--admission-server')) await serve();
else if (process.argv[1]?.endsWith('admission.ts')) print(await main());
