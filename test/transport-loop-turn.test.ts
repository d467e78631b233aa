import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DeferredQueue, TURN_BUDGET_MS } from 'corpc/internal';

/** A call of a fake server: it burns `ms` when started, then runs `then` (which may schedule more calls). */
class Call {
  nextDeferred: Call | null = null;
  constructor(
    readonly name: string,
    readonly ms: number,
    readonly then: () => void = () => {},
  ) {}
}

function burn(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** A server's deferred queue that records what it started, in order. */
function server(started: string[]): DeferredQueue<Call> {
  return new DeferredQueue<Call>((call) => {
    started.push(call.name);
    burn(call.ms);
    call.then();
  });
}

/** Calls `schedule` for each call as a server does: start now when the turn allows, else wait. */
function schedule(queue: DeferredQueue<Call>, call: Call, start: (call: Call) => void): void {
  if (queue.mayStart(performance.now())) start(call);
  else queue.push(call);
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 200));

test('calls beyond the turn budget wait for later turns, in arrival order, and every one starts', async () => {
  const started: string[] = [];
  const queue = server(started);
  const run = (call: Call): void => {
    started.push(call.name);
    burn(call.ms);
  };
  const calls = Array.from({ length: 20 }, (_, i) => new Call(`c${i}`, 2));
  for (const call of calls) schedule(queue, call, run);
  // A 5 ms budget holds at most three 2 ms calls in this turn; the rest wait.
  assert.ok(started.length <= Math.ceil(TURN_BUDGET_MS / 2) + 1, `${started.length} started at once`);
  await settle();
  assert.equal(
    started,
    calls.map((c) => c.name),
  );
});

test('waiting servers take turns, and a start that makes another server wait loses no queue', async () => {
  const started: string[] = [];
  const heavy = server(started);
  const light = server(started);
  // Fill the turn so that everything below waits.
  burn(TURN_BUDGET_MS + 1);
  const heavyCalls = Array.from({ length: 6 }, (_, i) => new Call(`h${i}`, 3));
  // The first heavy call, when it starts, schedules a light call (and the light one, a heavy one).
  const late = new Call('h-late', 1);
  const cross = new Call('l-cross', 0, () => heavy.push(late));
  heavyCalls[0] = new Call('h0', 3, () => light.push(cross));
  for (const call of heavyCalls) heavy.push(call);
  light.push(new Call('l0', 0));
  await settle();
  assert.is(started.length, heavyCalls.length + 3, started.join(' '));
  for (const name of ['l0', 'l-cross', 'h-late', ...heavyCalls.map((c) => c.name)])
    assert.ok(started.includes(name), name);
  // The light server waited behind one heavy call at most each time.
  assert.ok(started.indexOf('l0') <= 1, started.join(' '));
  assert.ok(started.indexOf('l-cross') - started.indexOf('h0') <= 2, started.join(' '));
  // Both queues are empty and take calls at once again in a fresh turn.
  await settle();
  assert.ok(heavy.mayStart(performance.now()) && light.mayStart(performance.now()));
});

test('a server whose queue empties while its start made another server wait keeps that one in the rotation', async () => {
  const started: string[] = [];
  const [a, b, c] = [server(started), server(started), server(started)];
  burn(TURN_BUDGET_MS + 1);
  c.push(new Call('c0', 1));
  c.push(new Call('c1', 1));
  // a's only call, when it starts, makes b wait: a empties in the same step.
  a.push(new Call('a0', 0, () => b.push(new Call('b0', 0))));
  await settle();
  assert.equal([...started].sort(), ['a0', 'b0', 'c0', 'c1']);
  await settle();
  assert.ok(b.mayStart(performance.now()), 'b takes calls again');
});

test('a start that throws does not stall the calls waiting behind it', async () => {
  const started: string[] = [];
  const queue = new DeferredQueue<Call>((call) => {
    started.push(call.name);
    if (call.name === 'bad') throw new Error('boom');
  });
  burn(TURN_BUDGET_MS + 1);
  for (const name of ['a', 'bad', 'b', 'c']) queue.push(new Call(name, 0));
  const errors: unknown[] = [];
  const onError = (error: unknown): void => void errors.push(error);
  process.on('uncaughtException', onError);
  try {
    await settle();
  } finally {
    process.off('uncaughtException', onError);
  }
  assert.equal(started, ['a', 'bad', 'b', 'c']);
  assert.is(errors.length, 1);
});

test.run();
