import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RpcError, createChannel } from 'corpc';
import { Echo, echoHandlers } from '../services/echo/echo.ts';
import { delay, serve } from './helpers/servers.ts';

test('a server that drains while a client keeps calling costs that client no failed call', async () => {
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
  try {
    await delay(200);
    const okBefore = ok;
    await leaving.server.close(5000);
    await delay(200);
    running = false;
    await Promise.all(callers);
    assert.ok(okBefore > 0 && ok > okBefore, 'calls flowed before and after the drain');
    assert.equal(failures, []);
    assert.is(leaving.server.stats().connections, 0);
  } finally {
    running = false;
    await channel.close();
    await staying.server.close();
  }
});

test.run();
