/**
 * What `corpc run` adds to each request: the handler observer of runtime/metrics.ts (a request
 * counted by status, handler time and queuing time in histograms, the dashboard's window), told
 * of an async Echo handler's start and end as the server tells it, beside the handler alone.
 */
import { RequestContext, createServer } from 'corpc';
import { now } from 'corpc/internal';
import { WorkerMetrics } from '../../runtime/metrics.ts';
import { Echo, echoHandlers } from '../../services/echo/echo.ts';
import { measureAsync, type MicroResult } from './measure.ts';

export async function main(): Promise<MicroResult[]> {
  const metrics = new WorkerMetrics(1);
  const server = createServer();
  metrics.addUnit('echo', server);
  const handlers = echoHandlers();
  const observer = metrics.observer('echo')(Echo.methods.echo);
  const ctx = new RequestContext('Echo/echo', now() + 500, 63, 42, 'trace', '127.0.0.1:1', null);
  const request = { text: 'corpc-bench-echo-payload-32bytes' };
  const results = [
    await measureAsync('async Echo handler alone (baseline)', async () => handlers.echo(request, ctx)),
    await measureAsync('the same under corpc run metrics (observer)', async () => {
      const startedAt = now();
      observer.started(ctx);
      const response = await handlers.echo(request, ctx);
      observer.succeeded(now() - startedAt);
      return response;
    }),
  ];
  metrics.close();
  return results;
}
