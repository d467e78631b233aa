import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIT_ALL, AdmissionController, USER_LEVELS, compoundLevel } from 'corpc';

/**
 * The control law with a fake clock: the controller is driven window by window with explicit
 * times (its timers are never started), against a simulated worker of known capacity.
 */

const WINDOW_MS = 1000;

/** A worker that serves `capacity` requests a window; the rest waits (queuing time grows). */
class SimulatedWorker {
  readonly controller = new AdmissionController({ policy: 'dagor', windowMs: WINDOW_MS, windowRequests: 1_000_000 });
  readonly counters = this.controller.methodCounters('Sim/work');
  private backlog = 0;
  private clock = 0;

  constructor(readonly capacity: number) {}

  /**
   * One window: `perLevel` requests at each user level of business priority `business`. With
   * `callersFilter`, requests above the level the worker advertised are shed by the callers and
   * never arrive (the trap). Returns how many were admitted.
   */
  window(perLevel: number, business = 10, callersFilter = false): number {
    const advertised = this.controller.advertisedLevel;
    let admitted = 0;
    for (let user = 0; user < USER_LEVELS; user++) {
      const level = compoundLevel(business, user);
      if (callersFilter && level > advertised) continue;
      for (let i = 0; i < perLevel; i++) if (this.controller.arrive(level, this.clock, this.counters)) admitted++;
    }
    const waiting = this.backlog + admitted;
    const served = Math.min(this.capacity, waiting);
    // Queuing time of the served ones: how long the backlog ahead of them takes to drain.
    const waitMs = (this.backlog / this.capacity) * WINDOW_MS;
    for (let i = 0; i < served; i++) this.controller.start(waitMs, this.clock, 0, this.counters);
    // Requests that waited past their deadline (half a window) are dropped at dequeue.
    this.backlog = Math.min(waiting - served, this.capacity / 2);
    this.clock += WINDOW_MS;
    this.controller.endWindow(this.clock);
    return admitted;
  }

  get level(): number {
    return this.controller.policy.level;
  }
}

test('starts admitting everything', () => {
  const worker = new SimulatedWorker(1000);
  assert.is(worker.level, ADMIT_ALL);
  assert.is(worker.window(5), 640);
  assert.is(worker.level, ADMIT_ALL);
});

test('fast down: an overloaded window sheds about alpha (5%) of what was served, lowest levels first', () => {
  const worker = new SimulatedWorker(1000);
  worker.window(10); // 1280 admitted, 1000 served: a backlog builds
  worker.window(10); // overloaded: the backlog makes queuing time long
  const metrics = worker.controller.metrics()!;
  assert.ok(metrics.overloaded);
  // Cut to at most 95% of the 1000 the worker served, by whole user levels from the top.
  const admittedLevels = worker.level - compoundLevel(10, 0) + 1;
  assert.ok(admittedLevels * 10 <= 950, `admits ${admittedLevels} levels`);
  assert.ok(admittedLevels * 10 >= 900, `admits ${admittedLevels} levels`);
});

test('slow up: a calm window admits about beta (1%) more, not everything at once', () => {
  const worker = new SimulatedWorker(100_000);
  // Force a low level, then let the worker be calm.
  (worker.controller.policy as { level: number }).level = compoundLevel(10, 63);
  const before = worker.window(10); // 640 admitted, far below capacity: calm
  const after = worker.level - compoundLevel(10, 0) + 1;
  assert.is(before, 640);
  assert.ok(after * 10 >= 640 * 1.01, `raised to ${after} levels`);
  assert.ok(after * 10 <= 640 * 1.05, `raised to ${after} levels`);
});

for (const callersFilter of [false, true]) {
  test(`converges near capacity without oscillating under 2x load${callersFilter ? ', with callers filtering (the trap)' : ''}`, () => {
    const worker = new SimulatedWorker(1000);
    const admitted: number[] = [];
    for (let i = 0; i < 80; i++) admitted.push(worker.window(16, 10, callersFilter)); // 2048 offered
    const settled = admitted.slice(40);
    const low = Math.min(...settled);
    const high = Math.max(...settled);
    assert.ok(low >= 800, `admitted fell to ${low}: ${settled.join(' ')}`);
    assert.ok(high <= 1100, `admitted rose to ${high}: ${settled.join(' ')}`);
    // Never back to admitting everything.
    assert.ok(settled.every((n) => n < 2048), settled.join(' '));
  });
}

test('recovers to admitting everything when the load falls, also when callers filter', () => {
  for (const callersFilter of [false, true]) {
    const worker = new SimulatedWorker(1000);
    for (let i = 0; i < 40; i++) worker.window(16, 10, callersFilter);
    assert.ok(worker.level < ADMIT_ALL);
    let windows = 0;
    while (worker.level < ADMIT_ALL && windows < 200) {
      worker.window(4, 10, callersFilter); // 512 offered: half the capacity
      windows++;
    }
    assert.is(worker.level, ADMIT_ALL, `still at ${worker.level} after ${windows} windows (filter ${callersFilter})`);
  }
});

test('a window in which callers sent nothing raises by a bounded step', () => {
  const worker = new SimulatedWorker(1000);
  (worker.controller.policy as { level: number }).level = compoundLevel(3, 5);
  worker.controller.endWindow(1000);
  assert.is(worker.level, compoundLevel(3, 5) + USER_LEVELS);
});

test('dry-run decides but admits everything, and tells callers to admit everything', () => {
  const controller = new AdmissionController({ dryRun: true });
  (controller.policy as { level: number }).level = 100;
  const counters = controller.methodCounters('M/m');
  assert.ok(controller.arrive(5000, 0, counters));
  assert.is(controller.advertisedLevel, ADMIT_ALL);
  controller.endWindow(10);
  assert.is(controller.metrics()!.rejected.admission_level, 1);
});

test('options are validated by name', () => {
  assert.throws(() => new AdmissionController({ policy: 'fifo' as 'none' }), /admission\.policy must be one of/);
  assert.throws(() => new AdmissionController({ alpha: 2 }), /admission\.alpha must be a number/);
  assert.throws(() => new AdmissionController({ windowMs: 0 }), /admission\.windowMs must be an integer/);
});

test.run();
