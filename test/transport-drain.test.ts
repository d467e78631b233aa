import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HealthService, RpcError, createChannel, createClient } from 'corpc';
import { Echo, echoHandlers } from '../services/echo/echo.ts';
import { eventually } from './helpers/eventually.ts';
import { delay, rejection, serve } from './helpers/servers.ts';
import { scopedTest } from './helpers/scope.ts';

scopedTest('a server that drains while a client keeps calling costs that client no failed call', async (t) => {
  const leaving = await serve(Echo, echoHandlers());
  const staying = await serve(Echo, echoHandlers());
  const channel = createChannel(`static://${leaving.target},${staying.target}`, { timeoutMs: 3000 });
  const failures: string[] = [];
  let ok = 0;
  let running = true;
  // 32 callers back to back, so requests are always in transit when the GOAWAY goes out.
  const callers = Array.from({ length: 32 }, async (_, i) => {
    while (running) {
      try {
        await channel.call('Echo/echo', { text: `c${i}` });
        ok++;
      } catch (error) {
        failures.push(error instanceof RpcError ? `${error.code} ${error.reason}: ${error.message}` : String(error));
      }
    }
  });
  t.defer(() => staying.server.close());
  t.defer(() => channel.close());
  t.defer(() => {
    running = false;
  });
  await delay(200);
  const okBefore = ok;
  await leaving.server.close(5000);
  await delay(200);
  running = false;
  await Promise.all(callers);
  assert.ok(okBefore > 0 && ok > okBefore, 'calls flowed before and after the drain');
  assert.equal(failures, []);
  assert.is(leaving.server.stats().connections, 0);
});

scopedTest(
  "a client's close() waits for its calls in flight, and ends its connection once the last one is cancelled",
  async (t) => {
    const { server, target } = await t.serve(Echo, echoHandlers());
    const health = createClient(HealthService, target);
    const caller = new AbortController();
    const watch = health.watch({ service: '' }, { timeoutMs: 60_000, signal: caller.signal })[Symbol.asyncIterator]();
    assert.equal((await watch.next()).value, { status: 'SERVING' });
    const closing = health.close();
    caller.abort();
    assert.is(((await rejection(watch.next())) as RpcError).code, 'CANCELLED');
    // No answer comes for a cancelled call: the connection ends without one.
    await eventually('the connection closed', () => server.stats().connections === 0);
    await closing;
  },
);

test.run();
