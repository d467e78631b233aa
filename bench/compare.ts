/**
 * `npm run bench -- compare`: the same 32-byte echo on corpc and on the frameworks users would
 * pick instead — grpc-js, Connect-ES (Connect and gRPC protocols over HTTP/2), Moleculer (TCP
 * transporter), Tars for Node (direct endpoint) — beside plain node:http2 and the bare ceiling;
 * each server in its own process, same levels, alternating runs. Targets: corpc's throughput
 * above every peer at 16, 128 and 1024 in flight, its p99 below theirs at every level, its server
 * CPU per request the lowest of all but bare.
 */
import { parseEchoArgs, writeJson } from './args.ts';
import { formatSystems } from './echo.ts';
import { nodeVersionOf, rowOf, runMatrix, type MatrixRow } from './echo/runner.ts';
import type { SystemName } from './echo/system.ts';

/** The frameworks corpc is held against (node-http2 and bare are floors and ceilings, not peers). */
const PEERS: readonly SystemName[] = ['grpc-js', 'connect-es', 'connect-es-grpc', 'moleculer', 'tars'];
const SYSTEMS: readonly SystemName[] = ['corpc', ...PEERS, 'node-http2', 'bare'];
const THROUGHPUT_LEVELS = [16, 128, 1024];

export async function main(argv: string[]): Promise<void> {
  const args = parseEchoArgs('compare', argv);
  const node = nodeVersionOf(args.node);
  console.log(`servers and load generators on node ${node}`);
  console.log(
    `compare: 32-byte echo on ${SYSTEMS.join(', ')}; ${args.connections} connection(s), ${args.rounds} round(s) of ${args.durationMs / 1000} s after ${args.warmupMs / 1000} s warm-up\n`,
  );
  const rows = await runMatrix({ systems: SYSTEMS, ...args });
  console.log(formatSystems(rows, args.inflights));
  console.log('');
  for (const line of verdicts(rows, args.inflights)) console.log(line);
  if (args.json !== undefined) {
    writeJson(args.json, {
      node,
      rows: rows.map(({ system, inflight, requests_per_s, p50_ms, p99_ms, server_cpu_us_per_req, errors }) => ({
        system,
        inflight,
        requests_per_s,
        p50_ms,
        p99_ms,
        server_cpu_us_per_req,
        errors,
      })),
    });
  }
}

/** Each target, met or not, with the figures that decide it. */
export function verdicts(rows: readonly MatrixRow[], inflights: readonly number[]): string[] {
  const lines: string[] = [];
  const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  for (const inflight of inflights) {
    const corpc = rowOf(rows, 'corpc', inflight)!;
    const peers = PEERS.map((peer) => rowOf(rows, peer, inflight)!);
    const fastest = peers.reduce((a, b) => (b.requests_per_s > a.requests_per_s ? b : a));
    // A system that answered nothing in the measured window has no p99: it is no lower than anyone's.
    const p99 = (row: MatrixRow): number => (row.requests_per_s > 0 ? row.p99_ms : Infinity);
    const lowestP99 = peers.reduce((a, b) => (p99(b) < p99(a) ? b : a));
    const others = rows.filter((row) => row.inflight === inflight && row.system !== 'corpc' && row.system !== 'bare');
    const leanest = others.reduce((a, b) => (b.server_cpu_us_per_req < a.server_cpu_us_per_req ? b : a));
    if (THROUGHPUT_LEVELS.includes(inflight)) {
      lines.push(
        `${inflight} in flight: throughput above every peer: ${verdict(corpc.requests_per_s > fastest.requests_per_s)} ` +
          `(corpc ${Math.round(corpc.requests_per_s)} req/s, best peer ${fastest.system} ${Math.round(fastest.requests_per_s)})`,
      );
    }
    lines.push(
      `${inflight} in flight: p99 below every peer: ${verdict(p99(corpc) < p99(lowestP99))} ` +
        `(corpc ${corpc.p99_ms.toFixed(2)} ms, lowest peer ${lowestP99.system} ${lowestP99.p99_ms.toFixed(2)} ms)`,
      `${inflight} in flight: server CPU/req lowest but bare: ${verdict(corpc.server_cpu_us_per_req < leanest.server_cpu_us_per_req)} ` +
        `(corpc ${corpc.server_cpu_us_per_req.toFixed(1)} µs, next ${leanest.system} ${leanest.server_cpu_us_per_req.toFixed(1)} µs)`,
    );
  }
  return lines;
}
