import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RpcError, createClient } from 'corpc';
import { Work } from './fixtures/reliability-service.ts';
import { leaksInternals } from './fuzz/attacks.ts';
import { killRuntime, startRuntime, FREE_PORTS } from './helpers/runtime.ts';
import { rejection } from './helpers/servers.ts';
import { scopedTest } from './helpers/scope.ts';

scopedTest(
  'a handler bug reaches the caller as INTERNAL with a trace id, no cause or stack; logs at debug level carry no request body',
  async (t) => {
    const runtime = await startRuntime(['test/fixtures/reliability-service.ts', '--workers', '1', ...FREE_PORTS], {
      env: { CORPC_LOG_LEVEL: 'debug' },
    });
    const client = createClient(Work, `127.0.0.1:${runtime.units.work}`);
    const secret = 'card-4111111111111111';
    t.defer(() => killRuntime(runtime));
    t.defer(() => client.destroy());
    const error = (await rejection(client.crash({ payload: secret }, { traceId: 'trace-leak-1' }))) as RpcError;
    assert.instance(error, RpcError);
    assert.is(error.code, 'INTERNAL');
    assert.is(error.message, 'internal error in Work/crash (trace trace-leak-1)');
    assert.not.ok(leaksInternals(error.message));
    assert.not.match(error.message, /ECONNREFUSED|10\.0\.0\.7|db\.ts/);
    assert.equal(await client.work({ ms: 0, payload: secret }), { pid: (await client.work({ ms: 0 })).pid });
    // And through the HTTP entry.
    const response = await fetch(`http://127.0.0.1:${runtime.httpPort}/Work/crash`, {
      method: 'POST',
      body: JSON.stringify({ payload: secret }),
    });
    const text = await response.text();
    assert.not.match(text, /ECONNREFUSED|10\.0\.0\.7|db\.ts|\n\s+at /);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.not.ok(runtime.output().includes(secret), 'stdout has no request body');
    assert.not.ok(runtime.errors().includes(secret), 'stderr has no request body');
  },
);

test.run();
