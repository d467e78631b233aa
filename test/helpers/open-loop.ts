/**
 * An open-loop load generator for overload tests: starts `perTick` calls every `tickMs`,
 * whatever happened to earlier calls (a closed loop would slow down with the server and
 * never overload it). Resolves with every call's outcome once all have settled.
 */
export async function openLoop<T>(
  durationMs: number,
  tickMs: number,
  perTick: number,
  call: (index: number) => Promise<T>,
): Promise<PromiseSettledResult<T>[]> {
  const calls: Promise<PromiseSettledResult<T>>[] = [];
  const end = Date.now() + durationMs;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      for (let i = 0; i < perTick; i++) calls.push(settle(call(calls.length)));
      if (Date.now() >= end) {
        clearInterval(timer);
        resolve();
      }
    }, tickMs);
  });
  return Promise.all(calls);
}

/** The outcome of a promise, observed at once (so a rejection is never unhandled while others run). */
function settle<T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  return promise.then(
    (value) => ({ status: 'fulfilled', value }),
    (reason: unknown) => ({ status: 'rejected', reason }),
  );
}
