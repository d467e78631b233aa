import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type RpcError, createClient } from 'corpc';
import { Echo } from '../services/echo/echo.ts';
import { makeHosts, netnsUnavailable, removeHosts, setLink, spawnTsIn } from './helpers/netns.ts';
import { eventually } from './helpers/eventually.ts';
import { stopChild, waitForLine } from './helpers/servers.ts';
import { scopedTest } from './helpers/scope.ts';

const unavailable = netnsUnavailable();

scopedTest(
  'hosts in their own network namespaces: one link goes down, calls fail over; it comes back, calls use it again',
  async (t) => {
    if (unavailable !== null) {
      console.log(`  (not run: ${unavailable})`);
      return;
    }
    const hosts = makeHosts(2);
    const servers = hosts.map((host) => spawnTsIn(host, 'test/fixtures/echo-server.ts', [host.address]));
    t.defer(() => removeHosts(hosts));
    t.defer(() => Promise.all(servers.map(stopChild)));
    const ports = await Promise.all(servers.map(async (child) => (await waitForLine(child, /^listening (\d+)$/))[1]));
    const addresses = hosts.map((host, i) => `${host.address}:${ports[i]}`);
    const client = createClient(Echo, addresses.join(','), {
      keepaliveIntervalMs: 200,
      keepaliveTimeoutMs: 300,
      connectTimeoutMs: 300,
      initialBackoffMs: 100,
      maxBackoffMs: 300,
      balancer: 'round-robin',
    });
    const states = (): Record<string, string> =>
      Object.fromEntries(client.channel.endpoints().map((e) => [e.address, e.state]));
    try {
      for (let i = 0; i < 10; i++) await client.echo({ text: 'warm' });
      // A connection can take a moment to come up on a loaded machine, and round-robin serves the
      // warm-up calls from the first ready host meanwhile.
      await eventually('both hosts in rotation', () => Object.values(states()).every((state) => state === 'ready'));

      setLink(hosts[0]!, 'down');
      const started = performance.now();
      const during = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => client.echo({ text: `cut ${i}` }, { timeoutMs: 2000 })),
      );
      assert.ok(performance.now() - started < 2500, 'no call outlived its deadline');
      for (const result of during) {
        if (result.status === 'rejected')
          assert.ok(['UNAVAILABLE', 'DEADLINE_EXCEEDED'].includes((result.reason as RpcError).code));
      }
      assert.is.not(states()[addresses[0]!], 'ready', 'the cut-off host is out of rotation');
      for (let i = 0; i < 20; i++)
        assert.equal(await client.echo({ text: `over ${i}` }, { timeoutMs: 1000 }), { text: `over ${i}` });

      setLink(hosts[0]!, 'up');
      await eventually('the host back in rotation', () => states()[addresses[0]!] === 'ready');
      for (let i = 0; i < 10; i++) await client.echo({ text: `again ${i}` }, { timeoutMs: 1000 });
    } finally {
      client.destroy();
    }
  },
);

test.run();
