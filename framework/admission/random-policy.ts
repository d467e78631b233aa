import { ADMIT_ALL } from '../priority.ts';
import type { AdmissionPolicy, AdmissionWindow } from './policy.ts';

const MIN_FRACTION = 0.01;
const MAX_RAISE_FRACTION = 0.25;

/**
 * Baseline `random`: the same detection (queuing time) and the same fast-down/slow-up law as
 * DAGOR, but it sheds a uniform random fraction of requests, whatever their priority.
 */
export class RandomPolicy implements AdmissionPolicy {
  readonly name = 'random';
  readonly level = ADMIT_ALL;
  readonly advertisedLevel = ADMIT_ALL;
  overloaded = false;
  /** Fraction of requests admitted. */
  fraction = 1;
  private calmWindows = 0;

  constructor(
    private readonly thresholdMs: number,
    private readonly alpha: number,
    private readonly beta: number,
  ) {}

  admit(): boolean {
    return this.fraction >= 1 || Math.random() < this.fraction;
  }

  dequeue(): boolean {
    return true;
  }

  onWindow(window: AdmissionWindow): void {
    this.overloaded = window.avgQueuingMs > this.thresholdMs;
    if (this.overloaded) {
      this.calmWindows = 0;
      const servedShare = window.started > 0 && window.started < window.admitted ? window.started / window.admitted : 1;
      this.fraction = Math.max(MIN_FRACTION, this.fraction * servedShare * (1 - this.alpha));
    } else if (this.fraction < 1) {
      this.calmWindows++;
      this.fraction = Math.min(
        1,
        this.fraction * (1 + Math.min(MAX_RAISE_FRACTION, this.beta * 2 ** (this.calmWindows - 1))),
      );
    }
  }
}
