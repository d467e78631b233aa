import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { killRuntime, startRuntime, FREE_PORTS } from './helpers/runtime.ts';
import { scopedTest } from './helpers/scope.ts';

scopedTest('the demo (npm start’s command, on free ports) prints a curl line that works', async (t) => {
  // `npm start` runs exactly this command line; the ports are flags so the test never needs fixed ones.
  const runtime = await startRuntime(['services/demo', '--workers', '1', ...FREE_PORTS]);
  t.defer(() => killRuntime(runtime));
  assert.ok(runtime.curl !== null, 'printed a curl line');
  const curl =
    /^curl -X POST (http:\/\/\S+) -H 'content-type: application\/json' -H '([^:]+): ([^']+)' --data '(.+)'$/.exec(
      runtime.curl,
    );
  assert.ok(curl !== null, `curl line in the documented form: ${runtime.curl}`);
  assert.match(runtime.output(), /dashboard\s+http:\/\/127\.0\.0\.1:\d+\/dashboard/);
  const [, url, header, user, data] = curl;
  const res = await fetch(url!, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [header!]: user! },
    body: data,
  });
  assert.is(res.status, 200, await res.clone().text());
  const reply = (await res.json()) as { transferId: string; balanceCents: number };
  assert.type(reply.transferId, 'string');
  assert.type(reply.balanceCents, 'number');

  const login = await fetch(url!.replace(/\/[^/]+\/[^/]+$/, '/Gateway/Login'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: 'u-42', password: 'pw' }),
  });
  assert.is(login.status, 200);
  assert.is(((await login.json()) as { displayName: string }).displayName, 'User 42');

  // Without a user id, an action that needs one is refused with a clear 401.
  const anonymous = await fetch(url!.replace(/\/[^/]+\/[^/]+$/, '/Gateway/PostFeed'), {
    method: 'POST',
    body: '{"text":"hi"}',
  });
  assert.is(anonymous.status, 401);

  // The live balance: a server stream through the gateway, newline-delimited JSON over HTTP.
  const watch = await fetch(url!.replace(/\/[^/]+\/[^/]+$/, '/Gateway/WatchBalance'), {
    method: 'POST',
    headers: { [header!]: user! },
    body: JSON.stringify({ intervalMs: 50, count: 3 }),
  });
  assert.is(watch.status, 200);
  assert.is(watch.headers.get('content-type'), 'application/x-ndjson');
  const lines = (await watch.text())
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.is(lines.length, 4);
  for (const balance of lines.slice(0, 3)) assert.is(balance.userId, user);
  assert.equal(lines[3], { status: 'OK' });

  const dashboard = await runtime.admin('/dashboard');
  assert.is(dashboard.status, 200);
  assert.match(await dashboard.text(), 'dashboard.json');
});

test.run();
