import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createClient, Resolver, type BalancedEndpoint } from 'corpc';
import { PowerOfTwoChoices, RoundRobin } from 'corpc/internal';
import { DnsServer } from './helpers/dns-server.ts';
import { eventually } from './helpers/eventually.ts';
import { Where, serveWhere, serveWherePair } from './helpers/where.ts';
import { scopedTest } from './helpers/scope.ts';

test('power of two choices takes the endpoint with fewer calls in flight', () => {
  const busy = { inFlight: 10, weight: 1 };
  const idle = { inFlight: 0, weight: 1 };
  const balancer = new PowerOfTwoChoices();
  for (let i = 0; i < 200; i++) assert.is(balancer.pick([busy, idle]), idle);
  // With many candidates, the busiest is never taken over a less busy one it is compared with.
  const many: BalancedEndpoint[] = Array.from({ length: 8 }, (_, i) => ({ inFlight: i === 0 ? 100 : 1, weight: 1 }));
  let busiest = 0;
  for (let i = 0; i < 1000; i++) if (balancer.pick(many) === many[0]) busiest++;
  assert.is(busiest, 0);
});

test('round robin takes the endpoints in turn', () => {
  const endpoints = [0, 1, 2].map(() => ({ inFlight: 0, weight: 1 }));
  const balancer = new RoundRobin();
  const picks = Array.from({ length: 6 }, () => endpoints.indexOf(balancer.pick(endpoints)));
  assert.equal(picks, [0, 1, 2, 0, 1, 2]);
});

scopedTest(
  'SRV weights decide the share of calls; a lower priority is used only when the preferred are down',
  async (t) => {
    const light = await serveWhere('light');
    const heavy = await serveWhere('heavy');
    const backup = await serveWhere('backup');
    const dns = await DnsServer.start({
      '_where._tcp.svc.test': {
        SRV: [
          { priority: 0, weight: 1, port: light.port, target: 'light.svc.test' },
          { priority: 0, weight: 3, port: heavy.port, target: 'heavy.svc.test' },
          { priority: 1, weight: 1, port: backup.port, target: 'backup.svc.test' },
        ],
      },
      'light.svc.test': { A: ['127.0.0.1'] },
      'heavy.svc.test': { A: ['127.0.0.1'] },
      'backup.svc.test': { A: ['127.0.0.1'] },
    });
    const resolver = new Resolver({ servers: [dns.address] });
    const client = createClient(Where, 'srv:///_where._tcp.svc.test', {
      resolver,
      initialBackoffMs: 20,
      maxBackoffMs: 100,
    });
    t.defer(() => Promise.all([light.server.close(), heavy.server.close(), backup.server.close(), dns.close()]));
    t.defer(() => client.close());
    await client.whoami({});
    await eventually('every endpoint ready', () => client.channel.endpoints().every((e) => e.state === 'ready'));
    const counts: Record<string, number> = { light: 0, heavy: 0, backup: 0 };
    for (let i = 0; i < 800; i++) counts[(await client.whoami({})).server]!++;
    assert.is(counts.backup, 0, 'the priority-1 endpoint is kept in reserve');
    // Expected share 3/4; the bounds are ~7 standard deviations wide.
    const share = counts.heavy! / 800;
    assert.ok(
      share > 0.65 && share < 0.85,
      `heavy got ${(share * 100).toFixed(1)} % of the calls, expected about 75 %`,
    );

    await light.server.close();
    await heavy.server.close();
    await eventually('the preferred endpoints are out', () =>
      client.channel.endpoints().every((e) => e.priority === 1 || e.state !== 'ready'),
    );
    assert.is((await client.whoami({})).server, 'backup');
  },
);

scopedTest('re-resolution adds and removes endpoints without dropping the connections it keeps', async (t) => {
  const [a, b] = await serveWherePair();
  const dns = await DnsServer.start({ 'pool.svc.test': { A: ['127.0.0.1'], ttl: 1 } });
  const resolver = new Resolver({ servers: [dns.address], minTtlMs: 0 });
  const client = createClient(Where, `dns:///pool.svc.test:${a.port}`, { resolver });
  t.defer(() => Promise.all([a.server.close(), b.server.close(), dns.close()]));
  t.defer(() => client.close());
  const first = await client.whoami({});
  assert.is(first.server, 'a');
  dns.set('pool.svc.test', { A: ['127.0.0.1', '127.0.0.2'], ttl: 1 });
  const seen = new Set<string>();
  await eventually('calls reach the added endpoint', async () => {
    const reply = await client.whoami({});
    seen.add(reply.server);
    if (reply.server === 'a') assert.is(reply.caller, first.caller, 'the connection to a was kept');
    return seen.has('b');
  });
  assert.is(a.server.stats().connections, 1);

  dns.set('pool.svc.test', { A: ['127.0.0.2'], ttl: 1 });
  await eventually('a retired', () => client.channel.endpoints().length === 1 && a.server.stats().connections === 0);
  for (let i = 0; i < 20; i++) assert.is((await client.whoami({})).server, 'b');
  assert.ok(resolver.stats().queriesSent >= 6, 'the resolver asked again in the background');
});

scopedTest('a name that does not resolve fails calls with UNAVAILABLE naming it', async (t) => {
  const dns = await DnsServer.start();
  const resolver = new Resolver({ servers: [dns.address] });
  const client = t.client(Where, 'dns:///nowhere.svc.test:7001', { resolver, timeoutMs: 5000 });
  t.defer(() => dns.close());
  const error = await client.whoami({}).then(
    () => null,
    (e: unknown) => e as { code: string; message: string },
  );
  assert.is(error?.code, 'UNAVAILABLE');
  assert.match(error!.message, /nowhere\.svc\.test/);
});

test('bad balancer and resolver options are refused by name', () => {
  assert.throws(
    () => createClient(Where, '127.0.0.1:1', { balancer: 'fastest' as 'p2c' }),
    /balancer must be "p2c", "round-robin"/,
  );
  assert.throws(() => createClient(Where, '127.0.0.1:1', { resolver: {} as Resolver }), /resolver must be a Resolver/);
});

test.run();
