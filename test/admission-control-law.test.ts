import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { USER_LEVELS } from 'corpc';
import { ADMIT_ALL, AdmissionController, CalleeLevelCache, compoundLevel } from 'corpc/internal';

/** Below it, a calm worker raises its level in proportion to its idle capacity (dagor-policy.ts). */
const TARGET_UTILIZATION = 0.9;

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
    this.controller.endWindow(this.clock, served / this.capacity);
    return admitted;
  }

  get level(): number {
    return this.controller.policy.level;
  }
}

/**
 * A dagor controller whose fake clock starts at 0 (a first window aligns it), with `queued`
 * requests admitted in that window and still waiting: a queue that stands, unless the test
 * starts them.
 */
function controllerAtZero(queued = 0): AdmissionController {
  const controller = new AdmissionController({ policy: 'dagor', windowMs: WINDOW_MS, windowRequests: 1_000_000 });
  const counters = controller.methodCounters('Sim/work');
  for (let i = 0; i < queued; i++) controller.arrive(0, 0, counters);
  controller.endWindow(0, 1);
  return controller;
}

/**
 * Drives one window of `controller` by hand: arrivals at `levels`, `started` of them waiting
 * `waitMs`, the worker as busy as `utilization` (fully, unless given).
 */
function driveWindow(
  controller: AdmissionController,
  at: number,
  levels: readonly number[],
  started: number,
  waitMs: number,
  utilization = 1,
): number {
  const counters = controller.methodCounters('Sim/work');
  for (const level of levels) controller.arrive(level, at, counters);
  for (let i = 0; i < started; i++) controller.start(waitMs, at, 0, counters);
  controller.endWindow(at + WINDOW_MS, utilization);
  return at + WINDOW_MS;
}

/** `perLevel` requests at each user level of business priority 10 up to `advertised` (callers filter). */
function filtered(advertised: number, perLevel: number, strays: readonly number[] = []): number[] {
  const levels: number[] = [...strays];
  for (let user = 0; user < USER_LEVELS; user++) {
    const level = compoundLevel(10, user);
    if (level <= advertised) for (let i = 0; i < perLevel; i++) levels.push(level);
  }
  return levels;
}

/** `perLevel` requests at each user level of `business`. */
function everyUser(business: number, perLevel: number): number[] {
  return Array.from({ length: USER_LEVELS * perLevel }, (_, i) => compoundLevel(business, Math.floor(i / perLevel)));
}

test('starts admitting everything', () => {
  const worker = new SimulatedWorker(1000);
  assert.is(worker.level, ADMIT_ALL);
  assert.is(worker.window(5), 640);
  assert.is(worker.level, ADMIT_ALL);
});

test('a long queuing time with nothing left in the queue at the window end is a burst, not an overload', () => {
  const drained = controllerAtZero();
  driveWindow(drained, 0, filtered(ADMIT_ALL, 10).slice(0, 1000), 1000, 60);
  assert.not.ok(drained.metrics()!.overloaded);
  assert.is(drained.policy.level, ADMIT_ALL);
  const standing = controllerAtZero(1);
  driveWindow(standing, 0, filtered(ADMIT_ALL, 10).slice(0, 1000), 1000, 60);
  assert.ok(standing.metrics()!.overloaded);
});

test('with the loop saturated, handler time far above its floor is a queue in the loop; with room, a slow downstream', () => {
  for (const [utilization, overloaded] of [
    [1, true],
    [0.5, false],
  ] as const) {
    const controller = controllerAtZero();
    const counters = controller.methodCounters('Sim/work');
    /** 20 requests that barely queued and took `ms` from start to answer (after an await, say). */
    const window = (at: number, ms: number, busy: number): void => {
      for (let i = 0; i < 20; i++) {
        controller.arrive(0, at, counters);
        controller.start(1, at, 0, counters);
        controller.finish(1 + ms, at + ms, ms);
      }
      controller.endWindow(at + WINDOW_MS, busy);
    };
    window(0, 7, 0.5); // the floor: 7 ms
    window(WINDOW_MS, 200, utilization);
    assert.is(controller.metrics()!.overloaded, overloaded, `utilisation ${utilization}`);
  }
  // Requests dropped at start (they never ran a handler) do not lower the floor: a saturated
  // loop serving handlers at their usual 7 ms is not overloaded after a window full of drops.
  const controller = controllerAtZero();
  const counters = controller.methodCounters('Sim/work');
  for (let at = 0; at < 3 * WINDOW_MS; at += WINDOW_MS) {
    for (let i = 0; i < 20; i++) {
      controller.arrive(0, at, counters);
      controller.start(1, at, 0, counters);
      controller.finish(8, at + 7, 7);
    }
    for (let i = 0; i < 40; i++) {
      controller.arrive(0, at, counters);
      controller.start(30, at, 0, counters);
      controller.finish(30, at, -1);
    }
    controller.endWindow(at + WINDOW_MS, 0.97);
    assert.not.ok(controller.metrics()!.overloaded, `window at ${at}`);
  }
});

test('fast down: an overloaded window sheds about alpha (5%) of what was served, lowest levels first', () => {
  const controller = controllerAtZero();
  // 1280 arrived (10 at each user level), 1000 served, queuing just above the 20 ms threshold.
  driveWindow(controller, 0, filtered(ADMIT_ALL, 10), 1000, 21);
  assert.ok(controller.metrics()!.overloaded);
  // Cut to at most 95% of the 1000 the worker served, by whole user levels from the top.
  const admittedLevels = controller.policy.level - compoundLevel(10, 0) + 1;
  assert.ok(admittedLevels * 10 <= 950, `admits ${admittedLevels} levels`);
  assert.ok(admittedLevels * 10 >= 900, `admits ${admittedLevels} levels`);
});

test('fast down with a standing queue: also sheds half the backlog beyond the threshold, at most a quarter of the load', () => {
  const controller = controllerAtZero(200);
  // Arrivals match what is served (the queue neither grows nor drains), but it stands at 220 ms:
  // a backlog of 200 ms × 1 request/ms beyond the threshold; half of it is shed on top of alpha.
  driveWindow(controller, 0, filtered(ADMIT_ALL, 10).slice(0, 1000), 1000, 220);
  const admittedLevels = controller.policy.level - compoundLevel(10, 0) + 1;
  assert.ok(admittedLevels * 10 <= 0.95 * 900, `admits ${admittedLevels} levels`);
  assert.ok(admittedLevels * 10 >= 0.95 * 900 - 20, `admits ${admittedLevels} levels`);
  // However long the queue, one window never cuts below three quarters of what was served (then alpha).
  const deep = controllerAtZero(200);
  driveWindow(deep, 0, filtered(ADMIT_ALL, 10).slice(0, 1000), 1000, 5000);
  assert.ok((deep.policy.level - compoundLevel(10, 0) + 1) * 10 >= 0.95 * 750 - 10);
});

test('slow up: a calm window of a busy worker admits about beta (1%) more, not everything at once', () => {
  // 640 admitted of a capacity of 690: calm (no queue), but 93 % busy.
  const worker = new SimulatedWorker(690);
  // Force a low level, then let the worker be calm.
  (worker.controller.policy as { level: number }).level = compoundLevel(10, 63);
  const before = worker.window(10); // 640 admitted, below capacity: calm
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
    assert.ok(
      settled.every((n) => n < 2048),
      settled.join(' '),
    );
  });
}

test('a calm worker with room admits more in proportion to its idle capacity, up to 4x a window', () => {
  for (const [utilization, low, high] of [
    [0.45, 1.9, 2.1], // 0.9 / 0.45: twice as much
    [0.05, 3.9, 4.1], // 18x would fit: at most 4x
  ] as const) {
    const controller = controllerAtZero();
    const policy = controller.policy as { level: number };
    policy.level = compoundLevel(10, 15);
    const levels = filtered(ADMIT_ALL, 10); // callers do not filter: the whole histogram is seen
    driveWindow(controller, 0, levels, 160, 1, utilization);
    const admitted = (policy.level - compoundLevel(10, 0) + 1) / 16;
    assert.ok(admitted >= low && admitted <= high, `at utilisation ${utilization}: ${admitted}x`);
  }
});

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

test('after a long spike, a level left low climbs back to what the worker served within a few windows', () => {
  const controller = controllerAtZero();
  const policy = controller.policy as { level: number };
  // Overloaded once: 1,000 served in the window. Then calm windows near that rate, until the
  // ceiling no longer holds (the level held the spike at capacity); the spike leaves it low.
  let at = driveWindow(controller, 0, everyUser(10, 10), 1000, 100);
  for (let i = 0; i < 12; i++) {
    const levels = filtered(policy.level, 10);
    at = driveWindow(controller, at, levels, levels.length, 1);
  }
  policy.level = compoundLevel(10, 5);
  // Half the capacity now, callers filtering: 4 requests per user level; the worker is as busy as
  // what it admits (of 1,000 a window).
  let windows = 0;
  for (let admitted = 0; admitted < 480 && windows < 100; windows++) {
    const levels = filtered(controller.advertisedLevel, 4);
    admitted = levels.length;
    at = driveWindow(controller, at, levels, levels.length, 1, levels.length / 1000);
  }
  // Doubling from beta, at most 25% a window, took 15 windows here.
  assert.ok(windows <= 6, `${windows} windows to admit the load again`);
});

test('three windows in which nothing arrived admit everything again, unless the worker is busy', () => {
  const idle = controllerAtZero();
  (idle.policy as { level: number }).level = compoundLevel(3, 5);
  idle.endWindow(WINDOW_MS, 0.1);
  idle.endWindow(2 * WINDOW_MS, 0.1);
  assert.ok(idle.policy.level < ADMIT_ALL, 'two quiet windows may just have missed a probe');
  idle.endWindow(3 * WINDOW_MS, 0.1);
  assert.is(idle.policy.level, ADMIT_ALL);
  // Busy (93 %, its slots full of long calls): a bounded step only.
  const busy = controllerAtZero();
  (busy.policy as { level: number }).level = compoundLevel(3, 5);
  busy.endWindow(WINDOW_MS, 0.93);
  assert.is(busy.policy.level, compoundLevel(3, 5) + USER_LEVELS);
});

test('the raise extrapolates from the density of the current business priority, not of the levels below it', () => {
  const controller = controllerAtZero();
  const policy = controller.policy as { level: number };
  policy.level = compoundLevel(10, 1);
  // Callers filter: 100 requests at business priority 0, and 4 at each admitted user level of 10.
  const levels = [...Array(100).fill(compoundLevel(0, 50)), ...filtered(policy.level, 4)];
  driveWindow(controller, 0, levels, levels.length, 1, 0.93);
  // Missing: beta (1%) of 108, about one request, at 4 a level: one user level up. The density of
  // the last 128 levels (8 requests, 126 of the levels empty) would have said 18 levels.
  assert.is(policy.level, compoundLevel(10, 2));
});

test('a raise crosses empty business priorities to the first user level of the next one that carried load, not past it', () => {
  const controller = controllerAtZero();
  const policy = controller.policy as { level: number };
  // A spike: business priorities 0 and 10 arrive, the worker is overloaded and cuts into 0.
  let at = driveWindow(controller, 0, [...everyUser(0, 10), ...everyUser(10, 10)], 100, 200);
  assert.ok(policy.level < compoundLevel(1, 0), `level ${policy.level}`);
  // Calm again, with only business priority 0 left under the level (callers filter the rest).
  policy.level = compoundLevel(1, 3);
  // The window right after a cut holds (the callers are still learning the level)…
  at = driveWindow(controller, at, everyUser(0, 10), 1280, 1);
  assert.is(policy.level, compoundLevel(1, 3));
  // …the next one, busy with some room, raises.
  at = driveWindow(controller, at, everyUser(0, 10), 1280, 1, 0.93);
  assert.is(policy.level, compoundLevel(10, 0));
  // There, the density of business priority 10 is measured before more of it is admitted.
  driveWindow(controller, at, [...everyUser(0, 10), ...filtered(policy.level, 10)], 1290, 1, 0.93);
  assert.ok(policy.level > compoundLevel(10, 0) && policy.level < compoundLevel(10, 20), `level ${policy.level}`);
});

test('after a cut, calls sent before callers learned the new level do not pass for the whole load above it', () => {
  const controller = controllerAtZero();
  const policy = controller.policy as { level: number };
  // Overloaded: 1,280 offered, 400 served (the ceiling: 400 a window).
  let at = driveWindow(controller, 0, everyUser(10, 10), 400, 100);
  assert.ok(controller.metrics()!.overloaded);
  // The window right after the cut holds; then calm, far below the ceiling, so the raise is large. Callers filter at (10, 10), but one call
  // per level above it still arrives from callers that had not heard of the level yet.
  policy.level = compoundLevel(10, 10);
  const strays = Array.from({ length: USER_LEVELS - 11 }, (_, i) => compoundLevel(10, 11 + i));
  at = driveWindow(controller, at, filtered(policy.level, 10), 110, 1, 0.3);
  assert.is(policy.level, compoundLevel(10, 10));
  at = driveWindow(controller, at, filtered(policy.level, 10, strays), 110, 1, 0.3);
  // The raise comes from the density of what callers send (10 a level), not from the strays (1 a
  // level, which would say the whole of business priority 10 costs little more).
  assert.ok(policy.level > compoundLevel(10, 10) && policy.level <= compoundLevel(10, 40), `level ${policy.level}`);
});

test('a window overloaded only by loop delay while few requests arrived does not hold recovery at beta', () => {
  const controller = controllerAtZero(1);
  const policy = controller.policy as { level: number };
  policy.level = compoundLevel(10, 63);
  // A quiet window (8 requests) that a GC pause or a neighbour's CPU made look overloaded.
  let at = driveWindow(controller, 0, filtered(policy.level, 1).slice(0, 8), 8, 50);
  assert.ok(controller.metrics()!.overloaded);
  // Then ordinary traffic, far below capacity (the worker is calm): 640 offered, callers filter.
  // Utilisation is held at the target, so the proportional raise does not hide the ceiling's effect.
  let windows = 0;
  while (policy.level < ADMIT_ALL && windows < 100) {
    const levels = filtered(controller.advertisedLevel, 5);
    at = driveWindow(controller, at, levels, levels.length, 1, TARGET_UTILIZATION - 0.01);
    windows++;
  }
  // Doubling from beta: about ten windows; held at beta by a stale ceiling it would take ~70.
  assert.ok(windows <= 20, `recovered after ${windows} windows`);
});

test('at low traffic, after one overloaded window, stray requests just above the level do not make it crawl a level a window', () => {
  const controller = controllerAtZero(1);
  const policy = controller.policy as { level: number };
  /** Ten requests a window spread over the admitted levels, plus one stray just above the level. */
  const quiet = (): number[] => {
    const admitted = filtered(controller.advertisedLevel, 1);
    return [...admitted.filter((_, i) => i % Math.max(1, Math.floor(admitted.length / 10)) === 0), policy.level + 1];
  };
  policy.level = compoundLevel(10, 20);
  // A burst made one quiet window overloaded (long queuing time, a request still queued): the level drops a little.
  let at = driveWindow(controller, 0, quiet(), 11, 100);
  assert.ok(controller.metrics()!.overloaded);
  let windows = 0;
  while (policy.level < compoundLevel(10, USER_LEVELS - 1) && windows < 200) {
    const levels = quiet();
    at = driveWindow(controller, at, levels, levels.length, 1, TARGET_UTILIZATION - 0.01);
    windows++;
  }
  // One level a window (beta of ten requests is a tenth of one, the stray decides) would take ~110.
  assert.ok(windows <= 40, `crossed business priority 10 after ${windows} windows`);
});

test('while the backlog of an earlier window drains, the level holds instead of sinking further', () => {
  const controller = controllerAtZero(300);
  const policy = controller.policy as { level: number };
  policy.level = compoundLevel(10, 63);
  // Overloaded (long queuing time), but 300 left the queue while 100 arrived: the queue shrinks.
  driveWindow(controller, 0, filtered(policy.level, 1).concat(filtered(policy.level, 1)).slice(0, 100), 300, 200);
  assert.ok(controller.metrics()!.overloaded);
  assert.is(policy.level, compoundLevel(10, 63));
});

test('the window right after a cut cuts again only if the queue grew: the cut acts a window late', () => {
  // The share of the window's arrivals that did not leave the queue (negative: more left than arrived).
  for (const [laterWaitMs, shortfall, cutsAgain] of [
    [30, 0.1, false], // the same queuing time, or a shorter one: the first cut has not acted yet
    [60, 0.1, true], // a longer queue: the first cut was not enough
    [60, -0.01, false], // a longer wait, but fewer arrived than left: what waited through the cut starts now
    [60, 0.01, false], // a longer wait, and a few more arrived than left: by chance (1 % of a thousand)
  ] as const) {
    const controller = controllerAtZero();
    const policy = controller.policy as { level: number };
    policy.level = compoundLevel(10, 127);
    // Overloaded: 1,280 arrived, 1,000 left the queue after 40 ms: cut.
    let at = driveWindow(controller, 0, filtered(policy.level, 10), 1000, 40);
    const cut = policy.level;
    assert.ok(cut < compoundLevel(10, 127), `level ${cut}`);
    // Still overloaded in the next window.
    const arrivals = filtered(cut, 10);
    at = driveWindow(controller, at, arrivals, Math.round(arrivals.length * (1 - shortfall)), laterWaitMs);
    assert.ok(controller.metrics()!.overloaded);
    assert.is(policy.level < cut, cutsAgain, `${laterWaitMs} ms, ${shortfall}: level ${policy.level} after ${cut}`);
  }
});

test('a worker whose loop is saturated holds its level, with a queue building or none; with room it raises', () => {
  for (const [waitMs, utilization, raises] of [
    [10, 0.98, false], // under the 20 ms threshold: a queue building
    [1, 0.98, false], // at capacity: more would only queue
    [1, 0.93, true], // busy, with a little room: beta
  ] as const) {
    const controller = controllerAtZero();
    const policy = controller.policy as { level: number };
    policy.level = compoundLevel(10, 63);
    const levels = filtered(policy.level, 10);
    driveWindow(controller, 0, levels, levels.length, waitMs, utilization);
    assert.ok(!controller.metrics()!.overloaded);
    assert.is(
      policy.level > compoundLevel(10, 63),
      raises,
      `queuing ${waitMs} ms, ${utilization}: level ${policy.level}`,
    );
  }
});

test('an overloaded window heavier than usual by no more than chance is cut as the usual load', () => {
  for (const [extra, low, high] of [
    [50, 940, 960], // within two standard deviations of 1,000 arrivals: noise, alpha (5 %) of the usual load
    [200, 0, 900], // a step: 95 % of what was served is kept of the whole window, the step's part too
  ] as const) {
    const controller = controllerAtZero();
    const policy = controller.policy as { level: number };
    policy.level = compoundLevel(10, 99);
    // Windows of 1,000 arrivals that hold the level (saturated, a queue building).
    let at = 0;
    for (let i = 0; i < 8; i++) at = driveWindow(controller, at, filtered(policy.level, 10), 1000, 10);
    assert.is(policy.level, compoundLevel(10, 99));
    // Then one with `extra` more at the level, overloaded, 1,000 served.
    const heavy = [...filtered(policy.level, 10), ...Array(extra).fill(compoundLevel(10, 99))];
    driveWindow(controller, at, heavy, 1000, 21);
    // What the new level admits of the usual load (10 a level).
    const kept = (policy.level - compoundLevel(10, 0) + 1) * 10;
    assert.ok(kept >= low && kept <= high, `${extra} more: keeps ${kept} of the usual 1,000`);
  }
});

/** Like driveWindow, with the `served` requests also answered (a 2 ms handler each): the window counts what ran. */
function driveAnswered(
  controller: AdmissionController,
  at: number,
  levels: readonly number[],
  served: number,
  waitMs: number,
  utilization = 1,
): number {
  const counters = controller.methodCounters('Sim/work');
  for (const level of levels) controller.arrive(level, at, counters);
  for (let i = 0; i < served; i++) {
    controller.start(waitMs, at, 0, counters);
    controller.finish(waitMs + 2, at, 2);
  }
  controller.endWindow(at + WINDOW_MS, utilization);
  return at + WINDOW_MS;
}

test('an overloaded window that served fewer than usual is cut from the capacity averaged over saturated windows', () => {
  const controller = controllerAtZero();
  const policy = controller.policy as { level: number };
  policy.level = compoundLevel(10, 127);
  // Overloaded: 1,280 arrived, 1,000 served: the capacity is 1,000 a window. The window after the
  // cut has as many leave as arrive (it holds), then the saturated loop holds with no queue.
  let at = driveAnswered(controller, 0, filtered(policy.level, 10), 1000, 40);
  for (let i = 0; i < 5; i++) {
    const levels = filtered(policy.level, 10);
    at = driveAnswered(controller, at, levels, levels.length, 1);
  }
  assert.ok(!controller.metrics()!.overloaded);
  // Then a window of the usual arrivals of which only 700 were served, just over the threshold:
  // one window's count, off by chance (or a pause). Cut from it, the level would keep 665.
  const usual = filtered(policy.level, 10);
  driveAnswered(controller, at, usual, 700, 21);
  assert.ok(controller.metrics()!.overloaded);
  const kept = (policy.level - compoundLevel(10, 0) + 1) * 10;
  assert.ok(kept >= 800 && kept < usual.length, `keeps ${kept} of ${usual.length}`);
});

test('the first overloaded window after a calm spell is cut from the capacity learnt before, not from its own count', () => {
  const controller = controllerAtZero();
  const policy = controller.policy as { level: number };
  policy.level = compoundLevel(10, 127);
  // Overloaded once: 1,000 served of 1,280. Then calm windows with room (5 a user level, 80 %
  // busy) for longer than the ceiling holds the raise back.
  let at = driveAnswered(controller, 0, filtered(policy.level, 10), 1000, 40);
  for (let i = 0; i < 14; i++) {
    const levels = filtered(policy.level, 5);
    at = driveAnswered(controller, at, levels, levels.length, 1, 0.8);
  }
  assert.ok(!controller.metrics()!.overloaded);
  // A step: 1,280 arrive, and the worker, idle at the window's start, serves 700 of them. Cut
  // from that count, the level would keep 658 of 1,280; the worker serves 1,000.
  policy.level = compoundLevel(10, 127);
  driveAnswered(controller, at, filtered(policy.level, 10), 700, 40);
  assert.ok(controller.metrics()!.overloaded);
  const kept = (policy.level - compoundLevel(10, 0) + 1) * 10;
  assert.ok(kept >= 800 && kept < 1000, `keeps ${kept} of 1,280`);
});

test('a cut within one business priority goes by the density of its levels, not by where its few arrivals lie', () => {
  const controller = controllerAtZero();
  const policy = controller.policy as { level: number };
  policy.level = compoundLevel(10, 63);
  // Business priority 0 in full, and 64 arrivals at priority 10 that happen to lie at user levels
  // 32..47 (4 each), none above: the same density, one a level, as 64 spread over 0..63.
  const levels = [...everyUser(0, 1)];
  for (let user = 32; user < 48; user++) for (let i = 0; i < 4; i++) levels.push(compoundLevel(10, user));
  // Overloaded, 186 served: keep 95 % of it, about 177 of the 192 arrivals: about 16 fewer.
  driveWindow(controller, 0, levels, 186, 21);
  // 16 levels at one a level; the walk through the arrivals alone would have stopped at 43.
  assert.is(policy.level, compoundLevel(10, 47));
});

test('a queued request the level fell below while it waited is dropped at dequeue (not in dry-run)', () => {
  for (const dryRun of [false, true]) {
    const controller = new AdmissionController({ policy: 'dagor', dryRun });
    const counters = controller.methodCounters('Sim/work');
    assert.ok(controller.arrive(compoundLevel(10, 100), 0, counters));
    (controller.policy as { level: number }).level = compoundLevel(10, 50);
    assert.is(controller.start(5, 5, compoundLevel(10, 100), counters), dryRun ? null : 'admission_level');
    assert.is(controller.start(5, 5, compoundLevel(10, 50), counters), null);
    controller.endWindow(10);
    assert.is(controller.metrics()!.rejected.admission_level, 1);
  }
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

test('a window ends on time when calm, and goes on when a few requests look overloaded', () => {
  const controller = new AdmissionController({ policy: 'dagor', windowMs: 100 });
  const counters = controller.methodCounters('Sim/work');
  controller.endWindow(0);
  // Calm: 3 requests that barely queued; the window ends at 100 ms although it holds only 3.
  for (let i = 0; i < 3; i++) {
    controller.arrive(0, 10, counters);
    controller.start(1, 10, 0, counters);
  }
  controller.arrive(0, 101, counters);
  assert.is(controller.metrics()!.arrived, 3);
  // Three that queued 50 ms (a GC pause at low traffic?): no verdict on so few, the window goes on…
  controller.endWindow(200, 0.1);
  for (let i = 0; i < 3; i++) {
    controller.arrive(0, 210, counters);
    controller.start(50, 210, 0, counters);
  }
  controller.arrive(0, 301, counters);
  assert.is(controller.metrics()!.arrived, 1, 'the window went on');
  // …until 16 requests have started in it, where the average decides.
  for (let i = 0; i < 13; i++) controller.start(1, 320, 0, counters);
  controller.arrive(0, 330, counters);
  assert.is(controller.metrics()!.arrived, 4);
  assert.is(controller.metrics()!.overloaded, false);
});

test("a worker's slots' utilisation is the time-average of its running handlers over its concurrency", () => {
  const controller = new AdmissionController({ policy: 'dagor' }, 4);
  const counters = controller.methodCounters('Sim/work');
  controller.endWindow(0);
  // Two handlers for the whole window, a third for half of it: 2.5 of 4 slots.
  controller.start(0, 0, 0, counters);
  controller.start(0, 0, 0, counters);
  controller.start(0, 50, 0, counters);
  controller.finish(1, 100, 50);
  controller.endWindow(100);
  assert.is(controller.metrics()!.slotUtilization, 2.5 / 4);
  assert.ok(controller.metrics()!.utilization >= 2.5 / 4);
});

test("a caller's cached level sheds what lies above it, with one probe per 100 ms, and expires", () => {
  const cached = new CalleeLevelCache(1000);
  cached.update(compoundLevel(0, 50), 0);
  assert.not.ok(cached.sheds(compoundLevel(0, 50), 10));
  assert.ok(cached.sheds(compoundLevel(10, 0), 10));
  // Of the calls it sheds, one goes out as a probe, then none until 100 ms later.
  assert.ok(cached.probe(10));
  assert.not.ok(cached.probe(60));
  assert.ok(cached.probe(110));
  // Answers keep the level; one that no answer refreshed for the TTL is forgotten.
  cached.update(compoundLevel(0, 50), 500);
  assert.ok(cached.sheds(compoundLevel(10, 0), 1400));
  assert.not.ok(cached.sheds(compoundLevel(10, 0), 1501));
  assert.is(cached.level, ADMIT_ALL);
});

test('options are validated by name', () => {
  assert.throws(() => new AdmissionController({ policy: 'fifo' as 'none' }), /admission\.policy must be one of/);
  assert.throws(() => new AdmissionController({ alpha: 2 }), /admission\.alpha must be a number/);
  assert.throws(() => new AdmissionController({ windowMs: 0 }), /admission\.windowMs must be an integer/);
});

test('a dead band: a calm, busy worker that already gets (1 - alpha) of what it serves holds; below that it raises', () => {
  for (const [usualLevels, raises] of [
    [96, false], // 960 a window of the 1,000 it serves: past 95 %, probing further only overshoots
    [86, true], // 860: room below the band
  ] as const) {
    const controller = controllerAtZero();
    const policy = controller.policy as { level: number };
    policy.level = compoundLevel(10, 127);
    // Overloaded: 1,000 served of 1,280 (the capacity), cut; then the window after the cut.
    let at = driveWindow(controller, 0, filtered(policy.level, 10), 1000, 40);
    policy.level = compoundLevel(10, usualLevels - 1);
    const usual = filtered(policy.level, 10);
    at = driveWindow(controller, at, usual, usual.length, 1, TARGET_UTILIZATION + 0.03);
    // Calm windows of the usual load, 93 % busy (with a little room: beta, before the dead band).
    const before = policy.level;
    for (let i = 0; i < 3; i++) at = driveWindow(controller, at, usual, usual.length, 1, TARGET_UTILIZATION + 0.03);
    assert.is(policy.level > before, raises, `${usual.length} a window: level ${policy.level} after ${before}`);
  }
});

test("a raise within a business priority goes by its density averaged over windows, not one window's handful", () => {
  const raiseAfter = (sparse: boolean): number => {
    const controller = controllerAtZero();
    const policy = controller.policy as { level: number };
    policy.level = compoundLevel(10, 31);
    // Most of the load at business priority 0, one arrival per user level of priority 10 up to
    // the level: 80 % busy, calm, so each window raises (and the level moves up the band).
    const window = (thin: boolean): number[] => {
      const band = filtered(policy.level, 1).filter((_, i) => !thin || i % 4 < 3);
      return [...Array.from({ length: 600 }, (_, i) => compoundLevel(0, i % USER_LEVELS)), ...band];
    };
    let at = 0;
    for (let i = 0; i < 3; i++) {
      const levels = window(false);
      at = driveWindow(controller, at, levels, levels.length, 1, 0.8);
    }
    // Then one window in which chance brought only three in four of the band's usual arrivals.
    const from = policy.level;
    const levels = window(sparse);
    driveWindow(controller, at, levels, levels.length, 1, 0.8);
    return policy.level - from;
  };
  const usual = raiseAfter(false);
  const sparse = raiseAfter(true);
  // From that window's own density (3/4), the raise would be 4/3 as many levels.
  assert.ok(
    usual > 0 && sparse <= usual * 1.2,
    `raised ${sparse} levels after the thin window, ${usual} after a usual one`,
  );
});

test.run();
