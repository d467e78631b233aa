/**
 * `npm run bench -- echo`: corpc's Echo/echo against the bare ceiling (length-prefixed msgpackr
 * over node:net, writes batched per tick), server and load generator in separate processes, at
 * 1, 16, 128 and 1024 requests in flight, alternating. Target: corpc ≥ 50 % of bare at 128.
 */
import { parseEchoArgs, writeJson } from './args.ts';
import { formatMs, formatRate, formatTable, rowOf, runMatrix } from './echo/runner.ts';

export async function main(argv: string[]): Promise<void> {
  const args = parseEchoArgs('echo', argv);
  console.log(
    `echo: 32-byte text, ${args.connections} connection(s), ${args.rounds} round(s) of ${args.durationMs / 1000} s after ${args.warmupMs / 1000} s warm-up\n`,
  );
  const rows = await runMatrix({ systems: ['corpc', 'bare'], ...args });
  const body = args.inflights.map((inflight) => {
    const corpc = rowOf(rows, 'corpc', inflight)!;
    const bare = rowOf(rows, 'bare', inflight)!;
    return [
      String(inflight),
      formatRate(corpc.requests_per_s),
      formatMs(corpc.p50_ms),
      formatMs(corpc.p99_ms),
      formatRate(bare.requests_per_s),
      formatMs(bare.p50_ms),
      formatMs(bare.p99_ms),
      `${((100 * corpc.requests_per_s) / bare.requests_per_s).toFixed(1)} %`,
      String(corpc.errors + bare.errors),
    ];
  });
  console.log(
    formatTable(
      ['in flight', 'corpc req/s', 'p50 ms', 'p99 ms', 'bare req/s', 'p50 ms', 'p99 ms', 'corpc/bare', 'errors'],
      body,
    ),
  );
  if (args.json !== undefined) writeJson(args.json, { results: rows });
}
