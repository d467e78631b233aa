/**
 * Child process: `client-process.ts <system> <target> <connections>` connects, then runs the
 * closed-loop loads its parent asks for over IPC and answers each with its figures.
 */
import { runLoad } from '../../runtime/loadgen/engine.ts';
import { isSystemName, loadSystem } from './system.ts';

export interface LoadRequest {
  inflight: number;
  warmupMs: number;
  durationMs: number;
}

export interface LoadFigures {
  requests_per_s: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  sent: number;
  /** Every request answered in the run, warm-up included: the server's CPU over the run is spent on these. */
  answered: number;
  /** CPU µs this load generator spent over the run (process.cpuUsage). */
  cpuMicros: number;
}

const [name = '', target = '', connections = '1'] = process.argv.slice(2);
if (!isSystemName(name) || process.send === undefined) {
  console.error('usage: client-process.ts <system> <target> <connections> (started by the bench, with IPC)');
  process.exit(2);
}
const system = await loadSystem(name);
const client = await system.connect(target, Number(connections));

process.on('message', (message: LoadRequest) => {
  const cpuBefore = process.cpuUsage();
  void runLoad(client.send, {
    concurrency: message.inflight,
    warmupMs: message.warmupMs,
    durationMs: message.durationMs,
  }).then((result) => {
    const { measured } = result;
    const figures: LoadFigures = {
      requests_per_s: result.requestsPerS,
      p50_ms: measured.latency.percentile(50),
      p99_ms: measured.latency.percentile(99),
      errors: measured.outcomes.total - measured.outcomes.ok,
      sent: measured.sent,
      answered: measured.outcomes.total + result.warmup.outcomes.total,
      cpuMicros: cpuTotal(process.cpuUsage(cpuBefore)),
    };
    process.send!(figures);
  });
});
function cpuTotal(usage: NodeJS.CpuUsage): number {
  return usage.user + usage.system;
}

process.on('disconnect', () => void client.close().finally(() => process.exit(0)));
process.send({ ready: true });
