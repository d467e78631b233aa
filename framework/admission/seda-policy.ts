import { ADMIT_ALL } from '../priority.ts';
import type { AdmissionPolicy, AdmissionWindow } from './policy.ts';

/**
 * Baseline `seda` (Welsh & Culler's adaptive admission): a token bucket in front of the queue
 * whose rate is cut multiplicatively while the 90th-percentile response time is above a target
 * and raised additively while it is below. The bucket starts unlimited.
 */
export class SedaPolicy implements AdmissionPolicy {
  readonly name = 'seda';
  readonly level = ADMIT_ALL;
  readonly advertisedLevel = ADMIT_ALL;
  overloaded = false;
  /** Admitted requests per second; Infinity while unlimited. */
  rate = Infinity;
  private tokens = 0;
  private lastRefill = 0;

  constructor(
    private readonly targetMs: number,
    private readonly decrease = 0.9,
    private readonly increase = 0.02,
  ) {}

  admit(_level: number, at: number): boolean {
    if (this.rate === Infinity) return true;
    const burst = Math.max(1, this.rate / 20);
    this.tokens = Math.min(burst, this.tokens + ((at - this.lastRefill) * this.rate) / 1000);
    this.lastRefill = at;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  dequeue(): boolean {
    return true;
  }

  onWindow(window: AdmissionWindow): void {
    if (window.durationMs <= 0) return;
    const arrivalRate = (window.arrived * 1000) / window.durationMs;
    this.overloaded = window.p90ResponseMs > this.targetMs;
    if (this.overloaded) {
      const base = this.rate === Infinity ? (window.admitted * 1000) / window.durationMs : this.rate;
      this.rate = Math.max(1, base * this.decrease);
    } else if (this.rate !== Infinity) {
      this.rate += Math.max(1, this.rate * this.increase);
      if (this.rate > 2 * arrivalRate && arrivalRate > 0) this.rate = Infinity;
    }
  }
}
