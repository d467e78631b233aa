import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { attributeLoopDelay, percentile } from 'corpc/internal';

test('the window percentile is the same value a full sort gives, duplicates and all', () => {
  const scratch = new Float64Array(2048);
  let seed = 7;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (const n of [1, 2, 3, 10, 100, 2047, 2048, 5000]) {
    for (const spread of [1000, 3]) {
      const samples = new Float64Array(Math.min(n, 2048));
      for (let i = 0; i < samples.length; i++) samples[i] = Math.floor(random() * spread);
      const before = [...samples];
      const sorted = [...samples].sort((a, b) => a - b);
      for (const p of [0, 0.5, 0.9, 0.99]) {
        const expected = sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
        assert.is(percentile(samples, n, p, scratch), expected, `n=${n} spread=${spread} p=${p}`);
      }
      // The samples themselves are left in place (the ring keeps filling).
      assert.equal([...samples], before);
    }
  }
  assert.is(percentile(new Float64Array(2048), 0, 0.99, scratch), 0);
});

test("the process's loop delay goes to the servers whose handlers hold the loop, the busiest seeing all of it", () => {
  const busy = { busyMs: 900, delayMs: 0, weight: 1 };
  const light = { busyMs: 90, delayMs: 0, weight: 1 };
  const idle = { busyMs: 0, delayMs: 0, weight: 1 };
  attributeLoopDelay(40, [busy, light, idle]);
  assert.is(busy.delayMs, 40);
  assert.is(light.delayMs, 4);
  assert.is(idle.delayMs, 0);
  // The same parts weight each server's share of the loop's utilisation.
  assert.equal([busy.weight, light.weight, idle.weight], [1, 0.1, 0]);
  assert.equal([busy.busyMs, light.busyMs, idle.busyMs], [0, 0, 0]);
  // Once the busy server has shed most of its load, the light one is the busiest: it reacts too.
  busy.busyMs = 50;
  light.busyMs = 100;
  attributeLoopDelay(40, [busy, light]);
  assert.is(light.delayMs, 40);
  assert.is(busy.delayMs, 20);
  // Alone in its process, a server sees the whole delay; with nothing started, so does everyone.
  const alone = { busyMs: 3, delayMs: 0, weight: 1 };
  attributeLoopDelay(25, [alone]);
  assert.is(alone.delayMs, 25);
  attributeLoopDelay(25, [busy, light]);
  assert.equal([busy.delayMs, light.delayMs], [25, 25]);
});

test.run();
