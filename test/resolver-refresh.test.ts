import { createServer as createTcpServer, connect } from 'node:net';
import { once } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createClient, Resolver } from 'corpc';
import { DnsServer } from './helpers/dns-server.ts';
import { eventually } from './helpers/eventually.ts';
import { Where, serveWherePair } from './helpers/where.ts';
import { scopedTest } from './helpers/scope.ts';

scopedTest('a failed connection makes the client ask DNS again before the TTL runs out', async (t) => {
  const [a, b] = await serveWherePair();
  const dns = await DnsServer.start({ 'moving.svc.test': { A: ['127.0.0.1'], ttl: 3600 } });
  const resolver = new Resolver({ servers: [dns.address], maxTtlMs: 3_600_000 });
  const client = createClient(Where, `dns:///moving.svc.test:${a.port}`, {
    resolver,
    initialBackoffMs: 20,
    maxBackoffMs: 200,
  });
  t.defer(() => Promise.all([a.server.close(), b.server.close(), dns.close()]));
  t.defer(() => client.close());
  assert.is((await client.whoami({})).server, 'a');
  // The service moves to 127.0.0.2; the old address stops answering. The TTL says an hour.
  dns.set('moving.svc.test', { A: ['127.0.0.2'], ttl: 3600 });
  await a.server.close();
  await eventually('the client follows the move', async () => {
    try {
      return (await client.whoami({})).server === 'b';
    } catch {
      return false;
    }
  });
  assert.ok(dns.queries('moving.svc.test', 'A') >= 2);
});

scopedTest("resolver.lookup works as net.connect's lookup, from the cache", async (t) => {
  const dns = await DnsServer.start({ 'sock.svc.test': { A: ['127.0.0.1'], AAAA: ['::1'] } });
  const resolver = new Resolver({ servers: [dns.address] });
  const tcp = createTcpServer((socket) => socket.end('hi'));
  tcp.listen(0, '127.0.0.1');
  await once(tcp, 'listening');
  const { port } = tcp.address() as { port: number };
  t.defer(() => dns.close());
  t.defer(() => tcp.close());
  for (let i = 0; i < 3; i++) {
    const socket = connect({ host: 'sock.svc.test', port, lookup: resolver.lookup, family: 4 });
    const [data] = (await once(socket, 'data')) as [Buffer];
    assert.is(data.toString(), 'hi');
    socket.destroy();
  }
  assert.is(dns.queries('sock.svc.test', 'A'), 1, 'one query for three connections');
  const all = await new Promise((resolve, reject) =>
    resolver.lookup('sock.svc.test', { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  );
  assert.equal(all, [
    { address: '127.0.0.1', family: 4 },
    { address: '::1', family: 6 },
  ]);
  const missing = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
    resolver.lookup('nope.svc.test', {}, (error) => resolve(error)),
  );
  assert.is(missing?.code, 'ENOTFOUND');
});

test.run();
