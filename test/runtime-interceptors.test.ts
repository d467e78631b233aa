import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { killRuntime, startRuntime, type RunningRuntime } from './helpers/runtime.ts';

let runtime: RunningRuntime;

test.before(async () => {
  runtime = await startRuntime(
    ['test/fixtures/runtime-intercepted.ts', '--workers', '1', '--port', '0', '--http-port', '0', '--admin-port', '0'],
    {
      env: { CORPC_LOG_LEVEL: 'silent' },
    },
  );
});

test.after(async () => {
  await killRuntime(runtime);
});

function post(body: unknown): Promise<Response> {
  return fetch(`http://127.0.0.1:${runtime.httpPort}/Front/Echo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

test('a module’s interceptors run in corpc run: client ones on the units’ calls, server ones on the units and the HTTP entry', async () => {
  const res = await post({ text: 'hi' });
  assert.is(res.status, 200);
  const reply = (await res.json()) as { text: string; backMetadata: Record<string, string>; viaEntry?: boolean };
  assert.is(reply.text, 'hi');
  // front → back went through the module's client interceptor.
  assert.is(reply.backMetadata['x-intercepted-by'], 'module client interceptor');
  // The HTTP entry ran the server interceptor around its call.
  assert.is(reply.viaEntry, true);

  const refused = await post({ text: 'forbidden' });
  assert.is(refused.status, 403);
  const error = (await refused.json()) as { code: string; reason: string };
  assert.is(error.code, 'PERMISSION_DENIED');
  assert.is(error.reason, 'forbidden');
});

test.run();
