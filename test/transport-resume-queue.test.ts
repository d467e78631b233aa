import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type RpcError, defineService, method } from 'corpc';
import { scopedTest, type TestScope } from './helpers/scope.ts';

/**
 * A handler that awaits a downstream call and then computes, the mixed handler of the CPU-bound
 * overload: the downstream (`Gate`) holds its answers until all `count` calls have come, so they
 * come back together, in one read of the front server's client connection.
 */
const Gate = defineService('Gate', { pass: method<{ count: number }, { ok: boolean }>() });
const Front = defineService('Front', { work: method<{ count: number; burnMs: number }, { tick: number }>() });

function burn(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** Counts the event loop's iterations: a setImmediate that queues itself runs once per iteration. */
function loopIterations(t: TestScope): { readonly count: number } {
  const counter = { count: 0 };
  let running = true;
  const spin = (): void => {
    counter.count++;
    if (running) setImmediate(spin);
  };
  setImmediate(spin);
  t.defer(() => {
    running = false;
  });
  return counter;
}

/** The gate and the front server; `burned` counts the handlers that reached their CPU-bound part. */
async function frontAndGate(t: TestScope, iterations: { readonly count: number }) {
  const waiting: (() => void)[] = [];
  const gate = await t.serve(Gate, {
    async pass({ count }) {
      await new Promise<void>((resolve) => {
        waiting.push(resolve);
        if (waiting.length === count) for (const open of waiting.splice(0)) open();
      });
      return { ok: true };
    },
  });
  const downstream = t.client(Gate, gate.target);
  const state = { burned: 0 };
  const front = await t.serve(
    Front,
    {
      async work({ count, burnMs }) {
        await downstream.pass({ count });
        const tick = iterations.count;
        state.burned++;
        burn(burnMs);
        return { tick };
      },
    },
    // One window for the whole test: its queuing time is read at the end.
    { admission: { windowMs: 60_000 } },
  );
  return { front, client: t.client(Front, front.target), state };
}

scopedTest(
  'answers that resume handlers are spread over the loop’s turns, and their wait counts as queuing time',
  async (t) => {
    const iterations = loopIterations(t);
    const { front, client } = await frontAndGate(t, iterations);
    const count = 20;
    const burnMs = 3;
    front.server.admission.endWindow();
    const answers = await Promise.all(
      Array.from({ length: count }, () => client.work({ count, burnMs }, { timeoutMs: 10_000 })),
    );
    const perIteration = new Map<number, number>();
    for (const { tick } of answers) perIteration.set(tick, (perIteration.get(tick) ?? 0) + 1);
    // A 5 ms turn holds two 3 ms continuations after the one a read delivers at once (delivered
    // in one read, all twenty would share one iteration).
    const most = Math.max(...perIteration.values());
    assert.ok(most <= 3, `at most 3 continuations in one loop iteration, got ${most} (${[...perIteration.values()]})`);
    front.server.admission.endWindow();
    const window = front.server.admission.metrics()!;
    assert.is(window.started, count);
    // The twentieth waited for the seventeen or so before it at 3 ms each: the mean is above 10 ms.
    assert.ok(window.avgQueuingMs >= 10, `average queuing time ${window.avgQueuingMs} ms`);
  },
);

scopedTest(
  'a handler whose deadline passes while its answer waits gets its deadline, not the answer: its work is not done',
  async (t) => {
    const iterations = loopIterations(t);
    const { client, state } = await frontAndGate(t, iterations);
    const count = 20;
    const outcomes = await Promise.allSettled(
      Array.from({ length: count }, () => client.work({ count, burnMs: 10 }, { timeoutMs: 60 })),
    );
    const failed = outcomes.filter((outcome) => outcome.status === 'rejected');
    for (const outcome of failed) assert.is((outcome.reason as RpcError).code, 'DEADLINE_EXCEEDED');
    // One 10 ms continuation per turn: far fewer than twenty fit in the 60 ms deadline.
    assert.ok(state.burned < count, `${state.burned} of ${count} handlers did their work`);
    assert.ok(failed.length > 0, 'some deadlines passed');
    assert.ok(count - failed.length <= state.burned, 'every success did its work');
  },
);

test.run();
