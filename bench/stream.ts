/**
 * `npm run bench -- stream`: a server stream on one connection, corpc vs grpc-js in the same run:
 * messages/s and bytes/s for 32-byte and 4 KiB messages over 1, 16 and 128 concurrent streams
 * (server and receiver in separate processes, pinned to separate CPUs when possible, alternating
 * systems). Then a consumer slower than the producer: the corpc server's heap, sampled while one
 * and then 16 streams of 4 KiB messages are read at 200 messages/s, must stay flat.
 * Target: corpc ≥ 10x grpc-js in messages/s for small messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createClient } from 'corpc';
import { UsageError, numberOption, writeJson } from './args.ts';
import { cpuPinning } from './machine.ts';
import { formatRate, formatTable } from './echo/runner.ts';
import { Feed, type StreamSystemName } from './stream/systems.ts';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

function spawnNode(file: string, args: string[], cpu: string | undefined, flags: string[] = []): ChildProcess {
  const node = [process.execPath, ...flags, '--conditions=corpc-source', '--import', 'tsx', file, ...args];
  const [command, ...rest] = cpu === undefined ? node : ['taskset', '-c', cpu, ...node];
  return spawn(command!, rest, { stdio: ['pipe', 'pipe', 'inherit'] });
}

async function startServer(
  system: StreamSystemName,
  flags: string[] = [],
): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = spawnNode(here('./stream/server-process.ts'), [system], cpuPinning()?.server, flags);
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /^listening (\d+)$/.exec(line);
      if (match !== null) resolve(Number(match[1]));
    });
    child.on('exit', (code) => reject(new Error(`${system} stream server exited (${code}) before listening`)));
  });
  return {
    port,
    stop: async () => {
      const exited = once(child, 'exit');
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

interface Figures {
  messages: number;
  bytes: number;
  seconds: number;
}

async function receive(
  system: StreamSystemName,
  port: number,
  size: number,
  streams: number,
  warmupMs: number,
  durationMs: number,
): Promise<Figures> {
  const child = spawnNode(
    here('./stream/client-process.ts'),
    [system, `127.0.0.1:${port}`, String(size), String(streams), String(warmupMs), String(durationMs)],
    cpuPinning()?.client,
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${system} stream receiver exited with ${code}`);
  return JSON.parse(output.trim().split('\n').pop()!) as Figures;
}

/** The corpc server's heap (after a GC) while consumers read 4 KiB messages at `ratePerS` each. */
async function slowConsumer(
  streams: number,
  ratePerS: number,
  seconds: number,
): Promise<{ streams: number; heapMiB: number[]; rssMiB: number[]; received: number }> {
  const server = await startServer('corpc', ['--expose-gc']);
  const client = createClient(Feed, `127.0.0.1:${server.port}`);
  const heapMiB: number[] = [];
  const rssMiB: number[] = [];
  let received = 0;
  let stopped = false;
  try {
    const sample = async (): Promise<void> => {
      const memory = await client.memory({}, { timeoutMs: 5000 });
      heapMiB.push(Math.round((memory.heapUsed / 2 ** 20) * 10) / 10);
      rssMiB.push(Math.round((memory.rss / 2 ** 20) * 10) / 10);
    };
    await sample();
    const readers = Array.from({ length: streams }, async () => {
      for await (const event of client.watch({ size: 4096 }, { timeoutMs: 3_600_000 })) {
        received += event.payload.length > 0 ? 1 : 0;
        if (stopped) break;
        await new Promise((resolve) => setTimeout(resolve, 1000 / ratePerS));
      }
    });
    for (let second = 0; second < seconds; second++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await sample();
    }
    stopped = true;
    await Promise.all(readers);
  } finally {
    await client.close();
    await server.stop();
  }
  return { streams, heapMiB, rssMiB, received };
}

export async function main(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        quick: { type: 'boolean', default: false },
        json: { type: 'string' },
        duration: { type: 'string' },
        streams: { type: 'string', default: '1,16,128' },
      },
    }));
  } catch (error) {
    throw new UsageError(
      `bench stream: ${(error as Error).message}\noptions: --quick, --json FILE, --duration S (default 3, quick 1), --streams LIST (default 1,16,128)`,
    );
  }
  const durationMs =
    1000 * numberOption('--duration', values.duration ?? (values.quick ? '1' : '3'), { exclusiveMin: true });
  const streamCounts = values.streams
    .split(',')
    .map((part) => numberOption('--streams', part, { integer: true, min: 1 }));
  const warmupMs = values.quick ? 500 : 1000;
  console.log(
    `stream: a server stream on one connection, ${durationMs / 1000} s measured after ${warmupMs / 1000} s warm-up, systems alternating\n`,
  );
  const systems: StreamSystemName[] = ['corpc', 'grpc-js'];
  const servers = new Map<StreamSystemName, { port: number; stop: () => Promise<void> }>();
  const rows: {
    system: StreamSystemName;
    size: number;
    streams: number;
    messages_per_s: number;
    bytes_per_s: number;
  }[] = [];
  try {
    for (const system of systems) servers.set(system, await startServer(system));
    for (const size of [32, 4096]) {
      for (const streams of streamCounts) {
        for (const system of systems) {
          const figures = await receive(system, servers.get(system)!.port, size, streams, warmupMs, durationMs);
          const row = {
            system,
            size,
            streams,
            messages_per_s: Math.round(figures.messages / figures.seconds),
            bytes_per_s: Math.round(figures.bytes / figures.seconds),
          };
          process.stderr.write(
            `  ${system.padEnd(8)} ${String(size).padStart(5)} B × ${String(streams).padStart(3)} streams: ${formatRate(row.messages_per_s)} msg/s\n`,
          );
          rows.push(row);
        }
      }
    }
  } finally {
    for (const server of servers.values()) await server.stop();
  }
  const body: string[][] = [];
  for (const size of [32, 4096]) {
    for (const streams of streamCounts) {
      const corpc = rows.find((r) => r.system === 'corpc' && r.size === size && r.streams === streams)!;
      const grpc = rows.find((r) => r.system === 'grpc-js' && r.size === size && r.streams === streams)!;
      body.push([
        size === 32 ? '32 B' : '4 KiB',
        String(streams),
        formatRate(corpc.messages_per_s),
        `${(corpc.bytes_per_s / 2 ** 20).toFixed(1)} MiB/s`,
        formatRate(grpc.messages_per_s),
        `${(grpc.bytes_per_s / 2 ** 20).toFixed(1)} MiB/s`,
        `${(corpc.messages_per_s / Math.max(1, grpc.messages_per_s)).toFixed(1)}x`,
      ]);
    }
  }
  console.log(
    formatTable(
      ['message', 'streams', 'corpc msg/s', 'corpc bytes/s', 'grpc-js msg/s', 'grpc-js bytes/s', 'corpc/grpc-js'],
      body,
    ),
  );
  const seconds = values.quick ? 3 : 6;
  const slow = [await slowConsumer(1, 200, seconds), await slowConsumer(16, 200, seconds)];
  console.log(
    `\nslow consumer: 4 KiB messages read at 200/s per stream, corpc server heap after GC, sampled each second for ${seconds} s`,
  );
  for (const run of slow) {
    console.log(
      `  ${String(run.streams).padStart(2)} stream(s): heap MiB ${run.heapMiB.join(' → ')}; RSS MiB ${run.rssMiB.join(' → ')}; ${run.received} messages read`,
    );
  }
  if (values.json !== undefined) writeJson(values.json, { results: rows, slowConsumer: slow });
}
