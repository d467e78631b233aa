/**
 * `npm run bench -- echo`: corpc's Echo/echo three ways — `corpc` (a bare `createServer()`),
 * `corpc-run` (the same service under `corpc run --workers 1`, metrics and logs on) — against the
 * bare ceiling (length-prefixed msgpackr over node:net, writes batched per tick), server and load
 * generator in separate processes, at 1, 16, 128 and 1024 requests in flight, alternating.
 * Targets: corpc ≥ 80 % of bare and corpc-run ≥ 90 % of corpc at every level.
 * `--interceptor` adds corpc with one no-op interceptor on each side, and its share of corpc's rate.
 */
import { parseEchoArgs, writeJson } from './args.ts';
import { formatMs, formatRate, formatTable, nodeVersionOf, rowOf, runMatrix, type MatrixRow } from './echo/runner.ts';

export async function main(argv: string[]): Promise<void> {
  const args = parseEchoArgs('echo', argv);
  const node = nodeVersionOf(args.node);
  console.log(`servers and load generators on node ${node}`);
  console.log(
    `echo: 32-byte text, ${args.connections} connection(s), ${args.rounds} round(s) of ${args.durationMs / 1000} s after ${args.warmupMs / 1000} s warm-up\n`,
  );
  const rows = await runMatrix({
    systems: ['corpc', 'corpc-run', ...(args.interceptor ? (['corpc-intercepted'] as const) : []), 'bare'],
    ...args,
  });
  console.log(formatSystems(rows, args.inflights));
  console.log('');
  const ratio = (a: MatrixRow, b: MatrixRow): string => `${((100 * a.requests_per_s) / b.requests_per_s).toFixed(1)} %`;
  const body = args.inflights.map((inflight) => {
    const corpc = rowOf(rows, 'corpc', inflight)!;
    const run = rowOf(rows, 'corpc-run', inflight)!;
    const bare = rowOf(rows, 'bare', inflight)!;
    const withInterceptor = rowOf(rows, 'corpc-intercepted', inflight);
    return [
      String(inflight),
      ratio(corpc, bare),
      ratio(run, corpc),
      ratio(run, bare),
      ...(withInterceptor === undefined ? [] : [ratio(withInterceptor, corpc)]),
    ];
  });
  console.log(
    formatTable(
      [
        'in flight',
        'corpc/bare (≥ 80 %)',
        'corpc-run/corpc (≥ 90 %)',
        'corpc-run/bare',
        ...(args.interceptor ? ['1 interceptor/corpc'] : []),
      ],
      body,
    ),
  );
  if (args.json !== undefined) writeJson(args.json, { node, results: rows });
}

/** One line per system and level: req/s, p50, p99, server and load-generator CPU µs per request, errors. */
export function formatSystems(rows: readonly MatrixRow[], inflights: readonly number[]): string {
  const body: string[][] = [];
  for (const inflight of inflights) {
    for (const row of rows.filter((candidate) => candidate.inflight === inflight)) {
      body.push([
        String(inflight),
        row.system,
        formatRate(row.requests_per_s),
        formatMs(row.p50_ms),
        formatMs(row.p99_ms),
        row.server_cpu_us_per_req.toFixed(1),
        row.client_cpu_us_per_req.toFixed(1),
        String(row.errors),
      ]);
    }
  }
  return formatTable(
    ['in flight', 'system', 'req/s', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'client CPU µs/req', 'errors'],
    body,
  );
}
