import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resolver, RpcError } from 'corpc';
import { formatHostPort } from 'corpc/internal';
import { DnsServer } from './helpers/dns-server.ts';
import { delay, rejection } from './helpers/servers.ts';

/** A clock the test moves by hand: the resolver's TTLs run on it, not on real time. */
function manualClock(): { now: () => number; advance(ms: number): void } {
  let time = 0;
  return {
    now: () => time,
    advance(ms: number) {
      time += ms;
    },
  };
}

async function withDns(run: (dns: DnsServer) => Promise<void>): Promise<void> {
  const dns = await DnsServer.start();
  try {
    await run(dns);
  } finally {
    await dns.close();
  }
}

test('an answer is kept for its TTL and replaced after it expires', () =>
  withDns(async (dns) => {
    dns.set('ttl.test', { A: ['10.0.0.1'], ttl: 1 });
    const clock = manualClock();
    const resolver = new Resolver({ servers: [dns.address], minTtlMs: 0, now: clock.now });
    assert.equal(await resolver.resolve('dns:///ttl.test:80'), [{ host: '10.0.0.1', port: 80 }]);
    dns.set('ttl.test', { A: ['10.0.0.2'], ttl: 1 });
    clock.advance(999);
    assert.equal(
      await resolver.resolve('dns:///ttl.test:80'),
      [{ host: '10.0.0.1', port: 80 }],
      'the cached answer, 1 ms before expiry',
    );
    assert.is(dns.queries('ttl.test', 'A'), 1);
    clock.advance(1);
    assert.equal(
      await resolver.resolve('dns:///ttl.test:80'),
      [{ host: '10.0.0.2', port: 80 }],
      'the new answer, at expiry',
    );
    assert.is(dns.queries('ttl.test', 'A'), 2);
    assert.is(resolver.stats().cacheHits, 1);
  }));

test('the TTL floor and ceiling apply', () =>
  withDns(async (dns) => {
    const clock = manualClock();
    dns.set('floor.test', { A: ['10.0.0.1'], ttl: 1 });
    const floored = new Resolver({ servers: [dns.address], minTtlMs: 60_000, maxTtlMs: 120_000, now: clock.now });
    await floored.resolve('dns:///floor.test:1');
    clock.advance(59_999);
    await floored.resolve('dns:///floor.test:1');
    assert.is(dns.queries('floor.test', 'A'), 1, 'a 1 s TTL raised to 60 s');
    clock.advance(1);
    await floored.resolve('dns:///floor.test:1');
    assert.is(dns.queries('floor.test', 'A'), 2, 'and asked again at 60 s');

    dns.set('ceiling.test', { A: ['10.0.0.1'], ttl: 3600 });
    const capped = new Resolver({ servers: [dns.address], minTtlMs: 0, maxTtlMs: 100, now: clock.now });
    await capped.resolve('dns:///ceiling.test:1');
    clock.advance(99);
    await capped.resolve('dns:///ceiling.test:1');
    assert.is(dns.queries('ceiling.test', 'A'), 1, 'cached until 100 ms');
    clock.advance(1);
    await capped.resolve('dns:///ceiling.test:1');
    assert.is(dns.queries('ceiling.test', 'A'), 2, 'a 1 h TTL lowered to 100 ms');
  }));

test('100 concurrent lookups of one name send one query', () =>
  withDns(async (dns) => {
    dns.set('busy.test', { A: ['10.0.0.1', '10.0.0.2'], AAAA: ['fd00::1'] });
    const resolver = new Resolver({ servers: [dns.address] });
    const answers = await Promise.all(Array.from({ length: 100 }, () => resolver.resolve('dns:///busy.test:7001')));
    for (const answer of answers) {
      assert.equal(answer, [
        { host: '10.0.0.1', port: 7001 },
        { host: '10.0.0.2', port: 7001 },
        { host: 'fd00::1', port: 7001 },
      ]);
    }
    assert.is(dns.queries('busy.test', 'A'), 1, 'one A query at the server');
    assert.is(dns.queries('busy.test', 'AAAA'), 1, 'one AAAA query at the server');
    const stats = resolver.stats();
    assert.is(stats.queriesSent, 2);
    assert.is(stats.coalesced, 99);
  }));

test('a name that does not exist is remembered (negative caching)', () =>
  withDns(async (dns) => {
    const resolver = new Resolver({ servers: [dns.address], minTtlMs: 0, negativeTtlMs: 60_000 });
    const first = (await rejection(resolver.resolve('dns:///missing.test:1'))) as RpcError;
    assert.instance(first, RpcError);
    assert.is(first.code, 'UNAVAILABLE');
    assert.is(first.reason, 'dns_not_found');
    assert.match(first.message, /missing\.test/);
    dns.set('missing.test', { A: ['10.0.0.9'] });
    const again = (await rejection(resolver.resolve('dns:///missing.test:1'))) as RpcError;
    assert.is(again.reason, 'dns_not_found');
    assert.is(dns.queries('missing.test', 'A'), 1, 'the second lookup was answered from the negative cache');
    assert.is(resolver.stats().failures, 1);

    const clock = manualClock();
    const short = new Resolver({ servers: [dns.address], minTtlMs: 0, negativeTtlMs: 50, now: clock.now });
    dns.remove('gone.test');
    await rejection(short.resolve('dns:///gone.test:1'));
    dns.set('gone.test', { A: ['10.0.0.3'] });
    clock.advance(49);
    assert.is(
      ((await rejection(short.resolve('dns:///gone.test:1'))) as RpcError).reason,
      'dns_not_found',
      'still remembered at 49 ms',
    );
    clock.advance(1);
    assert.equal(await short.resolve('dns:///gone.test:1'), [{ host: '10.0.0.3', port: 1 }]);
  }));

test('when the server stops answering, the last good answer is served (bounded by maxStaleMs)', () =>
  withDns(async (dns) => {
    dns.set('stale.test', { A: ['10.0.0.1'], ttl: 1 });
    const clock = manualClock();
    const resolver = new Resolver({
      servers: [dns.address],
      minTtlMs: 0,
      maxTtlMs: 100,
      maxStaleMs: 1500,
      timeoutMs: 100,
      tries: 1,
      now: clock.now,
    });
    await resolver.resolve('dns:///stale.test:80');
    dns.setAnswering(false);
    clock.advance(150);
    assert.equal(await resolver.resolve('dns:///stale.test:80'), [{ host: '10.0.0.1', port: 80 }]);
    const stats = resolver.stats();
    assert.is(stats.staleServed, 1);
    assert.is(stats.failures, 1);
    // Past maxStaleMs (100 ms TTL + 1500 ms) the stale answer is no longer used.
    clock.advance(1451);
    const error = (await rejection(resolver.resolve('dns:///stale.test:80'))) as RpcError;
    assert.is(error.code, 'UNAVAILABLE');
    assert.is(error.reason, 'dns_failed');
    assert.match(error.message, /stale\.test/);
    // And once the server answers again, so does the resolver.
    dns.setAnswering(true);
    dns.set('stale.test', { A: ['10.0.0.2'], ttl: 1 });
    assert.equal(await resolver.resolve('dns:///stale.test:80'), [{ host: '10.0.0.2', port: 80 }]);
  }));

test('SRV answers give targets resolved to addresses, with priority and weight', () =>
  withDns(async (dns) => {
    dns.set('_echo._tcp.svc.test', {
      SRV: [
        { priority: 0, weight: 10, port: 7001, target: 'a.svc.test' },
        { priority: 1, weight: 5, port: 7002, target: 'b.svc.test' },
      ],
    });
    dns.set('a.svc.test', { A: ['10.0.0.1'] });
    dns.set('b.svc.test', { AAAA: ['fd00::2'] });
    const resolver = new Resolver({ servers: [dns.address] });
    const endpoints = await resolver.resolve('srv:///_echo._tcp.svc.test');
    endpoints.sort((x, y) => x.port - y.port);
    assert.equal(endpoints, [
      { host: '10.0.0.1', port: 7001, priority: 0, weight: 10 },
      { host: 'fd00::2', port: 7002, priority: 1, weight: 5 },
    ]);
  }));

test('IP literals, the hosts file, localhost and static lists resolve without DNS', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'corpc-hosts-'));
  const hostsFile = join(dir, 'hosts');
  await writeFile(hostsFile, '# test hosts\n10.1.1.1 db.internal db\nfd00::7 db.internal\n');
  const resolver = new Resolver({ servers: ['127.0.0.1:9'], timeoutMs: 50, tries: 1, hostsFile });
  assert.equal(await resolver.resolve('db.internal:5432'), [
    { host: '10.1.1.1', port: 5432 },
    { host: 'fd00::7', port: 5432 },
  ]);
  // The file is watched: an edit shows up without a restart.
  await writeFile(hostsFile, '10.1.1.2 db.internal\n');
  let changed: unknown = null;
  for (let i = 0; i < 100 && changed === null; i++) {
    const answer = await resolver.resolve('db.internal:5432');
    if (answer[0]!.host === '10.1.1.2') changed = answer;
    else await delay(20);
  }
  assert.equal(changed, [{ host: '10.1.1.2', port: 5432 }]);
  resolver.close();
  await rm(dir, { recursive: true });
  assert.equal(await resolver.resolve('tcp://127.0.0.1:80'), [{ host: '127.0.0.1', port: 80 }]);
  assert.equal(await resolver.resolve('[::1]:80'), [{ host: '::1', port: 80 }]);
  assert.equal(await resolver.resolve('dns:///localhost:80'), [
    { host: '127.0.0.1', port: 80 },
    { host: '::1', port: 80 },
  ]);
  assert.equal(await resolver.resolve('static://10.0.0.1:1,10.0.0.2:2'), [
    { host: '10.0.0.1', port: 1 },
    { host: '10.0.0.2', port: 2 },
  ]);
  assert.is(resolver.stats().queriesSent, 0);
});

test('formatHostPort brackets IPv6 literals, and the resolver reads its output back', async () => {
  assert.is(formatHostPort('10.0.0.1', 7001), '10.0.0.1:7001');
  assert.is(formatHostPort('db.internal', 5432), 'db.internal:5432');
  assert.is(formatHostPort('::1', 80), '[::1]:80');
  const resolver = new Resolver();
  assert.equal(await resolver.resolve(formatHostPort('fd00::2', 9)), [{ host: 'fd00::2', port: 9 }]);
  resolver.close();
});

test('bad addresses and options are refused by name', async () => {
  const resolver = new Resolver();
  for (const [address, why] of [
    ['nonsense', /"nonsense" is not host:port/],
    ['http://x:1', /unknown scheme "http:\/\/"/],
    ['dns://8.8.8.8/x.test:1', /DNS server in the address/],
    ['dns:///x.test', /"x.test" is not host:port/],
    ['tcp://x.test:99999', /port 99999/],
    ['srv:///bad name', /not a DNS name/],
  ] as const) {
    const error = (await rejection(resolver.resolve(address))) as Error;
    assert.is(error.name, 'InvalidArgumentError', address);
    assert.match(error.message, why);
    assert.match(error.message, address);
  }
  assert.throws(() => new Resolver({ minTtlMs: -1 }), /minTtlMs must be an integer ≥ 0, got -1/);
  assert.throws(() => new Resolver({ servers: ['not an ip'] }), /servers must be/);
  assert.throws(() => new Resolver({ now: 5 as never }), /now must be a function returning milliseconds, got 5/);
});

test.run();
