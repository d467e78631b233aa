import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Status } from 'corpc';
import { killRuntime, startRuntime, type RunningRuntime } from './helpers/runtime.ts';

let runtime: RunningRuntime;

test.before(async () => {
  runtime = await startRuntime(
    ['test/fixtures/runtime-probe.ts', '--workers', '1', '--port', '0', '--http-port', '0', '--admin-port', '0'],
    {
      env: { CORPC_HTTP_TIMEOUT_MS: '300', CORPC_LOG_LEVEL: 'silent' },
    },
  );
});

test.after(async () => {
  await killRuntime(runtime);
});

function post(
  path: string,
  body: string,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(`http://127.0.0.1:${runtime.httpPort}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    ...(signal === undefined ? {} : { signal }),
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
  const again = (await (await post('/Probe/echo', '{"text":"again"}', { 'x-user-id': 'u-42' })).json()) as {
    userPriority: number;
  };
  assert.is(again.userPriority, body.userPriority);
});

test('a server stream over HTTP is newline-delimited JSON, read as it comes by curl -N', async () => {
  const curl = spawnSync(
    'curl',
    [
      '-N',
      '-s',
      '-X',
      'POST',
      `http://127.0.0.1:${runtime.httpPort}/Probe/Count`,
      '-H',
      'content-type: application/json',
      '--data',
      '{"to":3,"everyMs":20}',
      '-D',
      '-',
    ],
    { encoding: 'utf8', timeout: 10_000 },
  );
  assert.is(curl.status, 0, curl.stderr);
  const [head, bodyText] = curl.stdout.split('\r\n\r\n');
  assert.match(head!, /^HTTP\/1\.1 200/);
  assert.match(head!, /content-type: application\/x-ndjson/i);
  assert.equal(
    bodyText!
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line)),
    [{ n: 1 }, { n: 2 }, { n: 3 }, { status: 'OK' }],
  );
});

test('an HTTP caller that goes away mid-stream stops the stream’s handler', async () => {
  const before = (await (await post('/Probe/Streams', '{}')).json()) as { stoppedEarly: number };
  const abort = new AbortController();
  const res = await post('/Probe/Count', '{"to":100000,"everyMs":5}', {}, abort.signal);
  const reader = res.body!.getReader();
  assert.match(new TextDecoder().decode((await reader.read()).value), /^\{"n":1\}/);
  abort.abort();
  // Until the worker has seen the HTTP connection close and cancelled the stream.
  for (;;) {
    const now = (await (await post('/Probe/Streams', '{}')).json()) as {
      running: number;
      stoppedEarly: number;
      lastStop: string;
    };
    if (now.stoppedEarly > before.stoppedEarly) {
      assert.is(now.running, 0);
      assert.is(now.lastStop, 'CANCELLED', 'cancelled for its caller, not ended by its deadline');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

test('a stream that fails midway ends with its status as the last line; one that fails first is a plain error answer', async () => {
  const midway = await post('/Probe/Count', '{"to":5,"failAt":3}');
  assert.is(midway.status, 200);
  const lines = (await midway.text())
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(lines.slice(0, 2), [{ n: 1 }, { n: 2 }]);
  assert.is(lines[2]!.status, 'FAILED_PRECONDITION');
  assert.is(lines[2]!.reason, 'asked');
  const first = await post('/Probe/Count', '{"to":5,"failAt":1}');
  assert.is(first.status, 400);
  assert.is(((await first.json()) as { code: string }).code, 'FAILED_PRECONDITION');
  const clientStream = await post('/Probe/Tally', '{}');
  assert.is(clientStream.status, 404);
  assert.is(((await clientStream.json()) as { reason: string }).reason, 'wrong_method_kind');
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
