import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createClient } from 'corpc';
import { Probe } from './fixtures/runtime-probe.ts';
import { killRuntime, startRuntime, FREE_PORTS } from './helpers/runtime.ts';
import { scopedTest } from './helpers/scope.ts';

const args = ['test/fixtures/runtime-probe.ts', '--workers', '1', ...FREE_PORTS];

scopedTest('a client calling two process groups has no failed call while one of them drains and exits', async (t) => {
  const [a, b] = await Promise.all([startRuntime(args), startRuntime(args)]);
  const client = createClient(Probe, `127.0.0.1:${a.units.probe},127.0.0.1:${b.units.probe}`);
  let ok = 0;
  const failures: string[] = [];
  let running = true;
  const loop = async (): Promise<void> => {
    while (running) {
      try {
        await client.sleep({ ms: 5 }, { timeoutMs: 2000 });
        ok++;
      } catch (error) {
        failures.push(String(error));
      }
    }
  };
  t.defer(() => Promise.all([killRuntime(a), killRuntime(b)]));
  t.defer(() => client.destroy());
  t.defer(() => {
    running = false;
  });
  const loops = [loop(), loop(), loop(), loop()];
  await new Promise((resolve) => setTimeout(resolve, 300));
  a.child.kill('SIGTERM');
  assert.is(await a.exited(), 0);
  const afterExit = ok;
  await new Promise((resolve) => setTimeout(resolve, 300));
  running = false;
  await Promise.all(loops);
  assert.equal(failures, []);
  assert.ok(ok > afterExit, 'calls kept succeeding on the other group');
});

test.run();
