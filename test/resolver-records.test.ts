/**
 * Resolver behaviour against a DNS server with fixed records: by default the tests' own server;
 * with CORPC_TEST_DNS=ip:port (see test/dnsmasq/run.sh), a server nobody here wrote (dnsmasq).
 * Query counts are the resolver's own (dnsmasq does not report them); against the tests' server
 * they are checked at the server too.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Resolver, type RpcError } from 'corpc';
import { DnsServer } from './helpers/dns-server.ts';
import { rejection } from './helpers/servers.ts';
import { TTL_SECONDS, ZONE } from './dnsmasq/zone.ts';

const external = process.env.CORPC_TEST_DNS;
let own: DnsServer | null = null;
let server = external ?? '';

test.before(async () => {
  if (external === undefined) {
    own = await DnsServer.start(ZONE);
    server = own.address;
  }
});

test.after(async () => {
  await own?.close();
});

function resolver(): Resolver {
  return new Resolver({ servers: [server], minTtlMs: 0, negativeTtlMs: 60_000 });
}

const byHost = (a: { host: string }, b: { host: string }): number => a.host.localeCompare(b.host);

test(`A and AAAA records (server: ${external ?? "the tests' own"})`, async () => {
  const r = resolver();
  assert.equal((await r.resolve('dns:///web.svc.test:80')).sort(byHost), [
    { host: '10.0.0.1', port: 80 },
    { host: '10.0.0.2', port: 80 },
  ]);
  assert.equal(await r.resolve('dns:///v6.svc.test:80'), [{ host: 'fd00::1', port: 80 }]);
  assert.equal(await r.resolve('web.svc.test:81').then((e) => e.length), 2, 'host:port resolves the same way');
});

test('SRV records: targets resolved, ports, priority and weight', async () => {
  const endpoints = (await resolver().resolve('srv:///_web._tcp.svc.test')).sort(byHost);
  assert.equal(endpoints, [
    { host: '10.0.0.1', port: 8080, priority: 0, weight: 10 },
    { host: '10.0.0.2', port: 8080, priority: 0, weight: 10 },
    { host: 'fd00::1', port: 8081, priority: 1, weight: 5 },
  ]);
});

test('100 concurrent lookups of one name: one query per record type', async () => {
  const r = resolver();
  const answers = await Promise.all(Array.from({ length: 100 }, () => r.resolve('dns:///busy.svc.test:1')));
  assert.ok(answers.every((answer) => answer.length === 1 && answer[0]!.host === '10.0.0.3'));
  assert.is(r.stats().queriesSent, 2);
  assert.is(r.stats().coalesced, 99);
  if (own !== null) assert.is(own.queries('busy.svc.test', 'A'), 1);
});

test('NXDOMAIN is cached', async () => {
  const r = resolver();
  const error = (await rejection(r.resolve('dns:///missing.svc.test:1'))) as RpcError;
  assert.is(error.reason, 'dns_not_found');
  await rejection(r.resolve('dns:///missing.svc.test:1'));
  assert.is(r.stats().queriesSent, 2, 'A and AAAA once; the second lookup came from the cache');
  assert.is(r.stats().cacheHits, 1);
});

test('the TTL is honoured: cached before expiry, asked again after', async () => {
  let time = 0;
  const r = new Resolver({ servers: [server], minTtlMs: 0, now: () => time });
  await r.resolve('dns:///web.svc.test:80');
  time += TTL_SECONDS * 1000 - 1;
  await r.resolve('dns:///web.svc.test:80');
  assert.is(r.stats().queriesSent, 2, 'no query before expiry');
  time += 1;
  await r.resolve('dns:///web.svc.test:80');
  assert.is(r.stats().queriesSent, 4, 'asked again after expiry');
});

test.run();
