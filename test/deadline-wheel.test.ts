import { once } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type RpcError, Semaphore, WaitGroup, sleep, withContext } from 'corpc';
import { TimingWheel, now, type TimerEntry } from 'corpc/internal';
import { eventually } from './helpers/eventually.ts';
import { delay, rejection, waitForLine } from './helpers/servers.ts';
import { scopedTest } from './helpers/scope.ts';

class Entry implements TimerEntry {
  timerExpiresAt = 0;
  timerSlot = -1;
  timerPrev: TimerEntry | null = null;
  timerNext: TimerEntry | null = null;
  firedAt = 0;
  constructor(private readonly onFire: (entry: Entry) => void = () => undefined) {}
  onTimer(): void {
    this.firedAt = now();
    this.onFire(this);
  }
}

test('the wheel fires entries at their time, never early, and removed ones never', async () => {
  const wheel = new TimingWheel(4, 64); // one turn = 256 ms, so 600 ms needs more than one turn
  const start = now();
  const entries = [10, 50, 600].map((ms) => {
    const entry = new Entry();
    wheel.add(entry, start + ms);
    return { ms, entry };
  });
  const removed = new Entry();
  wheel.add(removed, start + 30);
  wheel.remove(removed);
  assert.is(wheel.size, 3);
  await eventually('every entry to fire', () => wheel.size === 0);
  for (const { ms, entry } of entries) assert.ok(entry.firedAt >= start + ms, `${ms} ms entry fired early`);
  assert.is(removed.firedAt, 0);
});

test('a callback may remove or re-add other entries of the same slot', async () => {
  const wheel = new TimingWheel(4, 64);
  const at = now() + 20;
  const second = new Entry();
  const first = new Entry(() => wheel.remove(second));
  const third = new Entry((self) => {
    if (self.firedAt < at + 40) wheel.add(self, at + 40);
  });
  wheel.add(second, at);
  wheel.add(first, at);
  wheel.add(third, at);
  await eventually('every entry to fire', () => wheel.size === 0);
  assert.ok(first.firedAt > 0);
  assert.ok(third.firedAt >= at + 40, 'the re-added entry fired at its new time');
});

/**
 * The wheel's timer is unref()ed (a deadline alone does not keep a process alive), so a test
 * that waits on nothing but a deadline holds the event loop open itself while it waits.
 */
async function keepingAlive<T>(promise: Promise<T>): Promise<T> {
  const alive = setInterval(() => undefined, 1000);
  try {
    return await promise;
  } finally {
    clearInterval(alive);
  }
}

test('a semaphore wait ends at the request deadline with DEADLINE_EXCEEDED', async () => {
  const semaphore = new Semaphore(1);
  await semaphore.acquire();
  const error = (await keepingAlive(rejection(withContext({ timeoutMs: 50 }, () => semaphore.acquire())))) as RpcError;
  assert.is(error.code, 'DEADLINE_EXCEEDED');
  assert.is(semaphore.waiting, 0);
  semaphore.release();
  assert.is(semaphore.available, 1, 'the timed-out waiter did not take the permit');
  assert.is(await semaphore.use(async () => 'ran'), 'ran');
});

test('a released permit goes to the longest waiter', async () => {
  const semaphore = new Semaphore(1);
  const order: number[] = [];
  await semaphore.acquire();
  const waits = [1, 2, 3].map((n) => semaphore.acquire().then(() => order.push(n)));
  for (let i = 0; i < 3; i++) {
    semaphore.release();
    await delay(1);
  }
  await Promise.all(waits);
  assert.equal(order, [1, 2, 3]);
});

test('a wait group resolves when every task is done, or fails at the deadline', async () => {
  const group = new WaitGroup();
  group.add(2);
  setTimeout(() => group.done(), 10);
  setTimeout(() => group.done(), 20);
  await group.wait();
  assert.is(group.pending, 0);

  group.add(1);
  const error = (await keepingAlive(rejection(withContext({ timeoutMs: 30 }, () => group.wait())))) as RpcError;
  assert.is(error.code, 'DEADLINE_EXCEEDED');
  group.done();
  assert.throws(() => group.done(), /more often than add/);
});

scopedTest('a wait that only its deadline ends keeps the process alive until then', async (t) => {
  const child = t.spawnTs('test/fixtures/lonely-wait.ts');
  const [line] = await waitForLine(child, /^(acquired|rejected .*)$/);
  assert.is(line, 'rejected DEADLINE_EXCEEDED');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.is(code, 0);
});

test('sleep inside a request stops at its deadline', async () => {
  const started = now();
  const error = (await rejection(withContext({ timeoutMs: 40 }, () => sleep(5000)))) as RpcError;
  assert.is(error.code, 'DEADLINE_EXCEEDED');
  assert.ok(now() - started < 4000);
  await sleep(5);
});

test.run();
