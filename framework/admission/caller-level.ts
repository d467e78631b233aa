import { ADMIT_ALL } from '../priority.ts';

/**
 * What a caller remembers of one callee's admission level (DAGOR's collaborative admission):
 * every answer refreshes it; a call above it is shed locally, before any byte is sent. A level
 * that no answer has refreshed for `ttlMs` expires back to "admit all", so a callee that
 * recovered while this caller sent it nothing (everything was above its level) is not shunned
 * forever: the next call goes out, and its answer brings the current level.
 */
export class CallerLevel {
  level = ADMIT_ALL;
  private refreshedAt = 0;

  constructor(private readonly ttlMs: number) {}

  /** An answer arrived carrying the callee's level. */
  update(level: number, at: number): void {
    this.level = level;
    this.refreshedAt = at;
  }

  /** The level in force at `at` (read-only: for metrics). */
  current(at: number): number {
    return at - this.refreshedAt > this.ttlMs ? ADMIT_ALL : this.level;
  }

  /** True when a call of compound level `level` must be shed locally at time `at`. */
  sheds(level: number, at: number): boolean {
    if (level <= this.level) return false;
    if (at - this.refreshedAt > this.ttlMs) {
      this.level = ADMIT_ALL;
      return false;
    }
    return true;
  }
}
