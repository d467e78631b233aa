/**
 * Admission costs. In this process: the per-request decision (controller.arrive), the signals a
 * served request feeds the controller (start, ran, finish: queuing, loop and handler time), and a window end
 * with full sample rings (the p99/p90 selection), beside the sort it replaced. Then the server's
 * own CPU per request, in a child process that runs only the server (the generated Echo:
 * MessagePack body decode + validation + a trivial handler) and reports `process.cpuUsage()`
 * over IPC, driven by a raw client that writes prebuilt REQUEST frames (no client-side admission
 * cache can short-circuit anything): served vs rejected from the header by the admission level,
 * beside the floor any answer costs (the same frames read, a constant answer written, nothing else).
 * ADMISSION_PROF=dir writes a CPU profile of each server child into dir.
 * `npm run bench -- micro admission`, or `node --conditions=corpc-source --import tsx bench/micro/admission.ts`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createServer } from 'corpc';
import { ADMIT_ALL, AdmissionController, SHED_BY_LEVEL, percentile, protocol } from 'corpc/internal';
import { Echo, echoHandlers } from '../../services/echo/echo.ts';
import { requestFrame } from './frame-decode.ts';
import { measure, print, type MicroResult } from './measure.ts';

const { FrameDecoder, FrameKind, FrameWriter, PREFACE } = protocol;

export async function main(): Promise<MicroResult[]> {
  const results: MicroResult[] = [];
  const controller = new AdmissionController({ policy: 'dagor', windowRequests: 1_000_000_000, windowMs: 1_000_000 });
  const counters = controller.methodCounters('M/m');
  const t = performance.now();
  results.push(await measure('decision (controller.arrive)', (i) => controller.arrive(i & ADMIT_ALL, t, counters)));
  // The CPU-bound signals every served request feeds: queuing at start, loop time held, response and run time.
  results.push(
    await measure('signals of a served request (start + ran + finish)', () => {
      controller.start(0.05, t, 0, counters);
      controller.ran(0.01);
      controller.finish(0.1, t, 0.01);
    }),
  );
  const samples = Float64Array.from({ length: 2048 }, () => Math.random() * 50);
  const scratch = new Float64Array(2048);
  results.push(
    await measure(
      'window p99 of 2,048 samples: quickselect (now)',
      () => percentile(samples, 2048, 0.99, scratch),
      100,
    ),
  );
  results.push(await measure('window p99 of 2,048 samples: sort (before)', () => samples.slice().sort()[2027], 100));
  const [served, rejected, floor] = await serverCpuPerRequest([{ level: ADMIT_ALL }, { level: 0 }, { floor: true }]);
  const share = (ns: number) => `${((ns / served) * 100).toFixed(0)}% of served`;
  results.push({ name: 'server CPU per request: served (Echo, decode + validate)', nsPerOp: served });
  results.push({ name: `server CPU per request: rejected by level (${share(rejected)})`, nsPerOp: rejected });
  results.push({
    name: `server CPU per request: floor, frames in + constant answer out (${share(floor)})`,
    nsPerOp: floor,
  });
  return results;
}

const REQUESTS = 100_000;
const BATCH = 200;

type ServerSetup = { level: number } | { floor: true };

/**
 * The server's CPU (user + system, its own process) per request, in ns, for each setup: the corpc
 * server at admission `level`, or (`floor`) a bare loop of the same frame decoder and writer that
 * answers every request with a constant error and does nothing else: what any answer costs.
 * Each setup runs in its own child; their rounds take turns, so a slow spell of the machine
 * falls on all of them alike.
 */
/** CPU time per request for each setup, in the setups' order. */
async function serverCpuPerRequest<const T extends readonly ServerSetup[]>(
  setups: T,
): Promise<{ [K in keyof T]: number }> {
  const servers = await Promise.all(setups.map(startServer));
  try {
    // The best of a few rounds: on a shared machine, noise only ever adds time.
    const best = setups.map(() => Infinity);
    for (let round = 0; round < 10; round++) {
      for (const [i, { child, answers }] of servers.entries()) {
        const before = await ask<NodeJS.CpuUsage>(child, { cpu: true });
        await answers.run(REQUESTS);
        const after = await ask<NodeJS.CpuUsage>(child, { cpu: true });
        best[i] = Math.min(best[i]!, ((after.user - before.user + after.system - before.system) * 1000) / REQUESTS);
      }
    }
    return best as { [K in keyof T]: number }; // one figure per setup, as mapped above
  } finally {
    await Promise.all(servers.map(stopServer));
  }
}

interface RunningServer {
  child: ChildProcess;
  socket: Socket;
  answers: ReturnType<typeof answerCounter>;
}

async function startServer(setup: ServerSetup): Promise<RunningServer> {
  const child = fork(fileURLToPath(import.meta.url), ['--admission-server'], {
    execArgv: [
      '--conditions=corpc-source',
      '--import',
      'tsx',
      ...(process.env.ADMISSION_PROF
        ? ['--cpu-prof', '--cpu-prof-interval=50', `--cpu-prof-dir=${process.env.ADMISSION_PROF}`]
        : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await ask<number>(child, setup);
  const socket = connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  socket.setNoDelay(true);
  socket.write(PREFACE);
  const answers = answerCounter(socket, requestBatch());
  await answers.run(2_000); // warm-up: JIT, buffers
  return { child, socket, answers };
}

async function stopServer({ child, socket }: RunningServer): Promise<void> {
  socket.destroy();
  // The child exits when the channel closes (and writes its profile when run with ADMISSION_PROF=dir).
  if (child.exitCode === null) {
    child.disconnect();
    await once(child, 'exit');
  }
}

/** BATCH prebuilt Echo/echo REQUEST frames (ids 1..BATCH, a 64-character text, business 10, user 50). */
function requestBatch(): Buffer {
  const header = ['Echo/echo', 5000, 10, 50, 'bench-trace-0001', null];
  return Buffer.concat(Array.from({ length: BATCH }, (_, i) => requestFrame(i + 1, header, { text: 'x'.repeat(64) })));
}

/** Sends `batch` repeatedly until `total` requests are answered (any answer frame counts). */
function answerCounter(socket: Socket, batch: Buffer): { run(total: number): Promise<void> } {
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
    async run(total) {
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
  const server = createServer({ admission: { windowMs: 3_600_000, windowRequests: 1_000_000_000 } }).addService(
    Echo,
    echoHandlers(),
  );
  process.on('disconnect', () => process.exit(0));
  process.on('message', async (message: { level?: number; floor?: boolean; cpu?: boolean }) => {
    if (message.level !== undefined) {
      (server.admission.policy as { level: number }).level = message.level;
      process.send!((await server.listen({ port: 0 })).port);
    } else if (message.floor === true) {
      process.send!(await listenFloor());
    } else if (message.cpu === true) {
      process.send!(process.cpuUsage());
    }
  });
}

/** The floor: frames decoded, each request answered with the server's own shedding answer, nothing else. */
async function listenFloor(): Promise<number> {
  const listener = createNetServer((socket) => {
    socket.setNoDelay(true);
    const writer = new FrameWriter(socket, null);
    const decoder = new FrameDecoder(
      {
        onFrame: (kind, id) => kind === FrameKind.REQUEST && writer.packedError(id, 0, SHED_BY_LEVEL),
        onPreface: () => undefined,
        onProtocolError: (error) => socket.destroy(error),
      },
      1 << 20,
    );
    writer.preface();
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return (listener.address() as { port: number }).port;
}

if (process.argv.includes('--admission-server')) await serve();
else if (process.argv[1]?.endsWith('admission.ts')) print(await main());
