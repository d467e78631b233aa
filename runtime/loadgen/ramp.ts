/** Ramp mode: open-loop steps of rising rate, the curve they draw, and where it bends. */

export interface RampStep {
  offered: number;
  /** Successful requests per second. */
  achieved: number;
  p50_ms: number;
  p99_ms: number;
  sent: number;
  errors: number;
}

export interface Knee {
  /** The highest offered rate the service still kept up with, or null if even the first step failed. */
  rate: number | null;
  /** Why the next step counts as past the knee (null if no step did). */
  reason: string | null;
}

/**
 * A step keeps up when it serves ≥ 95 % of the offered rate, fails < 1 % of requests, and its p99
 * stays within 5x the first step's (or under 1 ms, below which loopback noise dominates). The
 * knee is the last step before the first one that does not.
 */
export function findKnee(steps: readonly RampStep[]): Knee {
  const base = steps[0]?.p99_ms ?? 0;
  let last: number | null = null;
  for (const step of steps) {
    const reason = pastKnee(step, base);
    if (reason !== null) return { rate: last, reason: `at ${Math.round(step.offered)} req/s offered, ${reason}` };
    last = step.offered;
  }
  return { rate: last, reason: null };
}

function pastKnee(step: RampStep, baseP99: number): string | null {
  if (step.achieved < 0.95 * step.offered) return `only ${Math.round(step.achieved)} req/s served`;
  if (step.errors > 0.01 * step.sent) return `${((100 * step.errors) / step.sent).toFixed(1)} % errors`;
  if (step.p99_ms > 1 && step.p99_ms > 5 * baseP99)
    return `p99 ${step.p99_ms.toFixed(2)} ms (first step: ${baseP99.toFixed(2)} ms)`;
  return null;
}

/** The offered rates of a ramp: from, from+step, … up to and including `to`. */
export function rampRates(from: number, to: number, step: number): number[] {
  const rates: number[] = [];
  for (let i = 0; ; i++) {
    const rate = from + i * step;
    if (rate > to + 1e-9) break;
    rates.push(rate);
  }
  if (rates[rates.length - 1]! < to) rates.push(to);
  return rates;
}
