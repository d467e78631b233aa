import { ADMIT_ALL } from '../priority.ts';
import type { AdmissionPolicy } from './policy.ts';

/** Baseline `none`: admits everything (an unbounded FIFO, but for the server's hard queue ceiling). */
export class NonePolicy implements AdmissionPolicy {
  readonly name = 'none';
  readonly level = ADMIT_ALL;
  readonly advertisedLevel = ADMIT_ALL;
  readonly overloaded = false;
  admit(): boolean {
    return true;
  }
  dequeue(): boolean {
    return true;
  }
  onWindow(): void {}
}
