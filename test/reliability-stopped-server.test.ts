import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type RpcError, createClient } from 'corpc';
import { Echo } from '../services/echo/echo.ts';
import { eventually } from './helpers/eventually.ts';
import { spawnTs, stopChild, waitForLine } from './helpers/servers.ts';
import { scopedTest } from './helpers/scope.ts';

scopedTest(
  'SIGSTOP: calls to the frozen server end by their deadline, the keepalive marks it unhealthy, new calls go to the other; SIGCONT brings it back',
  async (t) => {
    const frozen = spawnTs('test/fixtures/echo-server.ts');
    const healthy = spawnTs('test/fixtures/echo-server.ts');
    t.defer(() => stopChild(healthy));
    t.defer(() => stopChild(frozen));
    t.defer(() => frozen.kill('SIGCONT'));
    const [, frozenPort] = await waitForLine(frozen, /^listening (\d+)$/);
    const [, healthyPort] = await waitForLine(healthy, /^listening (\d+)$/);
    const frozenAddress = `127.0.0.1:${frozenPort}`;
    const client = createClient(Echo, `${frozenAddress},127.0.0.1:${healthyPort}`, {
      keepaliveIntervalMs: 200,
      keepaliveTimeoutMs: 200,
      connectTimeoutMs: 300,
      initialBackoffMs: 100,
      maxBackoffMs: 300,
      balancer: 'round-robin',
    });
    try {
      // Both endpoints serve (a connection can take a moment to come up on a loaded machine, and
      // round-robin serves the warm-up calls from the first ready one meanwhile).
      for (let i = 0; i < 10; i++) await client.echo({ text: 'warm' });
      await eventually('both endpoints ready', () => client.channel.endpoints().every((e) => e.state === 'ready'));

      frozen.kill('SIGSTOP');
      const deadlineMs = 3000;
      const started = performance.now();
      const during = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => client.echo({ text: `during ${i}` }, { timeoutMs: deadlineMs })),
      );
      const elapsed = performance.now() - started;
      const failed = during.filter((r) => r.status === 'rejected').map((r) => (r.reason as RpcError).code);
      assert.ok(
        failed.length > 0 && failed.length < 20,
        `half the calls went to the frozen server (${failed.length} failed)`,
      );
      assert.ok(
        failed.every((code) => code === 'UNAVAILABLE' || code === 'DEADLINE_EXCEEDED'),
        failed.join(),
      );
      assert.ok(elapsed < deadlineMs + 500, 'none outlived its deadline');

      const frozenInfo = client.channel.endpoints().find((e) => e.address === frozenAddress)!;
      assert.is.not(frozenInfo.state, 'ready', 'the keepalive took the frozen endpoint out of rotation');
      for (let i = 0; i < 20; i++)
        assert.equal(await client.echo({ text: `after ${i}` }, { timeoutMs: 1000 }), { text: `after ${i}` });

      frozen.kill('SIGCONT');
      await eventually('the thawed endpoint ready again', () =>
        client.channel.endpoints().every((e) => e.state === 'ready'),
      );
    } finally {
      client.destroy();
    }
  },
);

test.run();
