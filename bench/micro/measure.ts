/**
 * The micro-bench loop: runs `fn` in growing batches until a batch takes long enough to time,
 * then reports the best of a few batches in ns per call (best, because on a shared machine
 * the noise only ever adds time).
 */
export interface MicroResult {
  name: string;
  nsPerOp: number;
}

export function measure(name: string, fn: (i: number) => unknown, targetMs = 150): Promise<MicroResult> {
  return calibrated(name, targetMs, (n) => {
    for (let i = 0; i < n; i++) keep(fn(i));
  });
}

/** Same for functions returning a promise: awaited one after another. */
export function measureAsync(name: string, fn: (i: number) => Promise<unknown>, targetMs = 150): Promise<MicroResult> {
  return calibrated(name, targetMs, async (n) => {
    for (let i = 0; i < n; i++) keep(await fn(i));
  });
}

async function calibrated(name: string, targetMs: number, batch: (n: number) => unknown): Promise<MicroResult> {
  let n = 1000;
  for (;;) {
    const started = process.hrtime.bigint();
    await batch(n);
    if (Number(process.hrtime.bigint() - started) / 1e6 >= targetMs / 4) break;
    n *= 4;
  }
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const started = process.hrtime.bigint();
    await batch(n);
    best = Math.min(best, Number(process.hrtime.bigint() - started) / n);
  }
  return { name, nsPerOp: best };
}

let kept: unknown;
function keep(value: unknown): void {
  kept = value;
  if (kept === Symbol.for('never')) console.log(kept);
}

export function print(results: readonly MicroResult[]): void {
  for (const r of results) console.log(`  ${r.name.padEnd(56)} ${r.nsPerOp.toFixed(1).padStart(9)} ns/op`);
}
