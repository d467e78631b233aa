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
}

const [name = '', target = '', connections = '1'] = process.argv.slice(2);
if (!isSystemName(name) || process.send === undefined) {
  console.error('usage: client-process.ts <system> <target> <connections> (started by the bench, with IPC)');
  process.exit(2);
}
const system = await loadSystem(name);
const client = await system.connect(target, Number(connections));

process.on('message', (message: LoadRequest) => {
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
    };
    process.send!(figures);
  });
});
process.on('disconnect', () => void client.close().finally(() => process.exit(0)));
process.send({ ready: true });
