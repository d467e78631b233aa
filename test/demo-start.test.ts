import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { killRuntime, startRuntime } from './helpers/runtime.ts';

test('the demo (npm start’s command, on free ports) prints a curl line that works', async () => {
  // `npm start` runs exactly this command line; the ports are flags so the test never needs fixed ones.
  const runtime = await startRuntime(['services/demo', '--workers', '1', '--port', '0', '--http-port', '0', '--admin-port', '0']);
  try {
    assert.ok(runtime.curl !== null, 'printed a curl line');
    const curl = /^curl -X POST (http:\/\/\S+) -H 'content-type: application\/json' -H '([^:]+): ([^']+)' --data '(.+)'$/.exec(runtime.curl);
    assert.ok(curl !== null, `curl line in the documented form: ${runtime.curl}`);
    assert.match(runtime.output(), /dashboard\s+http:\/\/127\.0\.0\.1:\d+\/dashboard/);
    const [, url, header, user, data] = curl;
    const res = await fetch(url!, { method: 'POST', headers: { 'content-type': 'application/json', [header!]: user! }, body: data });
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
    const anonymous = await fetch(url!.replace(/\/[^/]+\/[^/]+$/, '/Gateway/PostFeed'), { method: 'POST', body: '{"text":"hi"}' });
    assert.is(anonymous.status, 401);

    const dashboard = await runtime.admin('/dashboard');
    assert.is(dashboard.status, 200);
    assert.match(await dashboard.text(), 'dashboard.json');
  } finally {
    await killRuntime(runtime);
  }
});

test.run();
