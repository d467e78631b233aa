import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DnsServer } from './helpers/dns-server.ts';
import { waitForLine } from './helpers/servers.ts';
import { scopedTest } from './helpers/scope.ts';

scopedTest(
  'a lookup hanging at the DNS server delays neither fs nor other lookups; with the pool full, dns.lookup and fs wait but the resolver does not',
  async (t) => {
    const dns = await DnsServer.start({ 'ok.test': { A: ['10.0.0.1'] }, 'ok2.test': { A: ['10.0.0.2'] } });
    for (let i = 0; i < 8; i++) dns.hang(`hang-${i}.test`);
    const child = t.spawnTs('test/helpers/pool-probe.ts', [dns.address], { UV_THREADPOOL_SIZE: '2' });
    t.defer(() => dns.close());
    const [, json] = await waitForLine(child, /^RESULT (.*)$/, 30_000);
    const result = JSON.parse(json!);
    // Part 1: eight lookups hang at the server; fs and another lookup complete meanwhile.
    assert.equal(result.fsWhileLookupsHang, { done: true, hangingSettled: 0 });
    assert.equal(result.lookupWhileLookupsHang, { answer: [{ host: '10.0.0.1', port: 1 }], hangingSettled: 0 });
    assert.ok(dns.queries('hang-0.test', 'A') >= 1, 'the hanging queries did reach the server');
    // Part 2: the pool is full; the resolver answers, dns.lookup and fs do not until it frees up.
    assert.equal(result.resolverWhilePoolFull, {
      answer: [{ host: '10.0.0.2', port: 1 }],
      lookupDone: false,
      fsDone: false,
    });
    assert.equal(result.afterMore300ms, { lookupDone: false, fsDone: false });
    assert.equal(result.afterRelease, { lookup: '127.0.0.1', fs: true });
    assert.is(result.hangingSettledAtEnd, 0, 'the hanging lookups were still hanging all along');
  },
);

test.run();
