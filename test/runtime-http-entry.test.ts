import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Status } from 'corpc';
import { killRuntime, startRuntime, type RunningRuntime } from './helpers/runtime.ts';

let runtime: RunningRuntime;

test.before(async () => {
  runtime = await startRuntime(['test/fixtures/runtime-probe.ts', '--workers', '1', '--port', '0', '--http-port', '0', '--admin-port', '0'], {
    env: { CORPC_HTTP_TIMEOUT_MS: '300', CORPC_LOG_LEVEL: 'silent' },
  });
});

test.after(async () => {
  await killRuntime(runtime);
});

function post(path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${runtime.httpPort}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
}

test('POST /<Service>/<Method> answers the result as JSON, with priorities the entry assigns', async () => {
  const res = await post('/Probe/Echo', '{"text":"hi"}', { 'x-user-id': 'u-42', 'x-corpc-business-priority': '0' });
  assert.is(res.status, 200);
  assert.ok(res.headers.get('x-trace-id'));
  const body = (await res.json()) as { text: string; businessPriority: number; userPriority: number };
  assert.is(body.text, 'hi');
  // From the entry table (Probe/Echo has business priority 2), not from the caller's header.
  assert.is(body.businessPriority, 2);
  // The same user keeps the same user priority.
  const again = (await (await post('/Probe/echo', '{"text":"again"}', { 'x-user-id': 'u-42' })).json()) as { userPriority: number };
  assert.is(again.userPriority, body.userPriority);
});

test('status mapping: 429 with Retry-After, 504, 400, 503, 404', async () => {
  const exhausted = await post('/Probe/Fail', JSON.stringify({ status: Status.RESOURCE_EXHAUSTED }));
  assert.is(exhausted.status, 429);
  assert.is(exhausted.headers.get('retry-after'), '1');
  assert.is(((await exhausted.json()) as { code: string }).code, 'RESOURCE_EXHAUSTED');

  const late = await post('/Probe/Sleep', '{"ms":2000}');
  assert.is(late.status, 504);
  assert.is(((await late.json()) as { code: string }).code, 'DEADLINE_EXCEEDED');

  const badJson = await post('/Probe/Echo', '{"text":');
  assert.is(badJson.status, 400);
  assert.is(((await badJson.json()) as { code: string }).code, 'INVALID_ARGUMENT');
  const badField = await post('/Probe/Echo', '{"text":5}');
  assert.is(badField.status, 400);

  const unavailable = await post('/Probe/Fail', JSON.stringify({ status: Status.UNAVAILABLE }));
  assert.is(unavailable.status, 503);

  const unknown = await post('/Probe/Nope', '{}');
  assert.is(unknown.status, 404);
  const unimplemented = await post('/Probe/Fail', JSON.stringify({ status: Status.UNIMPLEMENTED }));
  assert.is(unimplemented.status, 404);
  const notFound = await post('/Probe/Fail', JSON.stringify({ status: Status.NOT_FOUND }));
  assert.is(notFound.status, 404);

  const get = await fetch(`http://127.0.0.1:${runtime.httpPort}/Probe/Echo`);
  assert.is(get.status, 405);
});

test('the HTTP requests are counted in /metrics by route and status', async () => {
  const text = await (await runtime.admin('/metrics')).text();
  assert.match(text, /corpc_http_requests_total\{route="Probe\/Fail",status="429",business="63",worker="1"\} 1/);
});

test.run();
