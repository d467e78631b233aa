import { createClient } from 'corpc';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Echo } from '../services/echo/echo.ts';
import { Probe } from './fixtures/runtime-probe.ts';
import { killRuntime, startRuntime, stopRuntime, FREE_PORTS } from './helpers/runtime.ts';
import { scopedTest } from './helpers/scope.ts';

scopedTest(
  '--port 0: the supervisor never binds a port and lets it go; node:cluster gives every worker the same one',
  async (t) => {
    const command = [
      process.execPath,
      '--conditions=corpc-source',
      '--import',
      'tsx',
      '--import',
      './test/fixtures/listener-closes.mjs',
      'runtime/cli.ts',
      'run',
    ];
    const runtime = await startRuntime(['test/fixtures/runtime-probe.ts', '--workers', '2', ...FREE_PORTS], {
      command,
    });
    const client = createClient(Probe, `127.0.0.1:${runtime.units.probe}`, { connectionsPerEndpoint: 8 });
    t.defer(() => killRuntime(runtime));
    t.defer(() => client.destroy());
    // Calls at once spread over the eight connections, which node:cluster spread over the workers.
    const pids = new Set(
      (await Promise.all(Array.from({ length: 32 }, () => client.sleep({ ms: 50 })))).map((reply) => reply.pid),
    );
    assert.is(pids.size, 2, 'both workers answer on the printed port');
    const http = await fetch(`http://127.0.0.1:${runtime.httpPort}/Probe/Echo`, {
      method: 'POST',
      body: '{"text":"y"}',
    });
    assert.is(http.status, 200);
    assert.not.match(runtime.errors(), /listener-closes/, 'no listener closed while the group runs');
  },
);

scopedTest(
  '--port 0 with two workers: a unit reaches another by name at the port the first worker bound',
  async (t) => {
    const runtime = await startRuntime(['services/echo', '--workers', '2', ...FREE_PORTS]);
    const client = createClient(Echo, `127.0.0.1:${runtime.units.echo}`, { connectionsPerEndpoint: 8 });
    t.defer(() => stopRuntime(runtime));
    t.defer(() => client.destroy());
    // Eight connections spread over both workers: each one's relay calls the unit `echo` by its address.
    const replies = await Promise.all(Array.from({ length: 16 }, (_, i) => client.relay({ text: `r${i}` })));
    assert.equal(
      replies.map((reply) => reply.text),
      replies.map((_, i) => `r${i}`),
    );
  },
);

test.run();
