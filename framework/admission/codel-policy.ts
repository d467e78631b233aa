import { ADMIT_ALL } from '../priority.ts';
import type { AdmissionPolicy } from './policy.ts';

/**
 * Baseline `codel` (Nichols & Jacobson): admits everything; at dequeue, once the queuing time
 * has stayed above `targetMs` for a whole `intervalMs`, drops requests at a rate that grows with
 * the square root of the number dropped, until the queuing time falls below the target.
 */
export class CodelPolicy implements AdmissionPolicy {
  readonly name = 'codel';
  readonly level = ADMIT_ALL;
  readonly advertisedLevel = ADMIT_ALL;
  private firstAboveAt = 0;
  private dropping = false;
  private dropNextAt = 0;
  private drops = 0;

  constructor(
    private readonly targetMs: number,
    private readonly intervalMs: number,
  ) {}

  get overloaded(): boolean {
    return this.dropping;
  }

  admit(): boolean {
    return true;
  }

  dequeue(queuingMs: number, at: number): boolean {
    if (queuingMs < this.targetMs) {
      this.firstAboveAt = 0;
      this.dropping = false;
      return true;
    }
    if (this.dropping) {
      if (at < this.dropNextAt) return true;
      this.drops++;
      this.dropNextAt = at + this.intervalMs / Math.sqrt(this.drops);
      return false;
    }
    if (this.firstAboveAt === 0) {
      this.firstAboveAt = at + this.intervalMs;
      return true;
    }
    if (at < this.firstAboveAt) return true;
    this.dropping = true;
    // Re-entering soon after the last dropping state: resume near the previous drop rate.
    this.drops = at - this.dropNextAt < 16 * this.intervalMs && this.drops > 2 ? this.drops - 2 : 1;
    this.dropNextAt = at + this.intervalMs / Math.sqrt(this.drops);
    return false;
  }

  onWindow(): void {}
}
