/**
 * `npm run bench -- compare`: the same echo on corpc, grpc-js and the bare ceiling, same payload,
 * same levels, same machine, alternating runs. Target: corpc ≥ 15x grpc-js at 128 in flight,
 * with a lower p99 at every level.
 */
import { parseEchoArgs, writeJson } from './args.ts';
import { formatMs, formatRate, formatTable, rowOf, runMatrix } from './echo/runner.ts';

export async function main(argv: string[]): Promise<void> {
  const args = parseEchoArgs('compare', argv);
  console.log(
    `compare: 32-byte echo on corpc, grpc-js and bare, ${args.connections} connection(s), ${args.rounds} round(s) of ${args.durationMs / 1000} s after ${args.warmupMs / 1000} s warm-up\n`,
  );
  const rows = await runMatrix({ systems: ['corpc', 'grpc-js', 'bare'], ...args });
  const body = args.inflights.map((inflight) => {
    const corpc = rowOf(rows, 'corpc', inflight)!;
    const grpc = rowOf(rows, 'grpc-js', inflight)!;
    const bare = rowOf(rows, 'bare', inflight)!;
    return [
      String(inflight),
      formatRate(corpc.requests_per_s),
      formatMs(corpc.p99_ms),
      formatRate(grpc.requests_per_s),
      formatMs(grpc.p99_ms),
      formatRate(bare.requests_per_s),
      formatMs(bare.p99_ms),
      `${(corpc.requests_per_s / grpc.requests_per_s).toFixed(1)}x`,
      `${((100 * corpc.requests_per_s) / bare.requests_per_s).toFixed(1)} %`,
    ];
  });
  console.log(
    formatTable(
      ['in flight', 'corpc req/s', 'p99 ms', 'grpc-js req/s', 'p99 ms', 'bare req/s', 'p99 ms', 'corpc/grpc-js', 'corpc/bare'],
      body,
    ),
  );
  if (args.json !== undefined) {
    writeJson(args.json, {
      rows: rows.map(({ system, inflight, requests_per_s, p50_ms, p99_ms, errors }) => ({
        system,
        inflight,
        requests_per_s,
        p50_ms,
        p99_ms,
        errors,
      })),
    });
  }
}
