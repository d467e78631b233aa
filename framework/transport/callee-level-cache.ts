import { ADMIT_ALL } from '../priority.ts';

/**
 * While a callee's level sheds calls, one of them is sent anyway at most this often (per caller
 * and endpoint): its answer brings the callee's current level even when every other call this
 * caller makes is shed locally, so a callee that recovered is heard from within this long, not
 * only when the cached level expires.
 */
export const PROBE_INTERVAL_MS = 100;

/**
 * The client's copy of one callee's admission level, as that callee last reported it (DAGOR's
 * collaborative admission; the callee's own level lives in admission/controller.ts):
 * every answer refreshes it; a call above it is shed locally, before any byte is sent. Two things
 * keep a low level from locking lower priorities out once the callee has room again:
 * - a probe: every `PROBE_INTERVAL_MS`, one call that the level would shed goes out (`probe()`);
 * - expiry: a level that no answer has refreshed for `ttlMs` goes back to "admit all".
 * (Answers to the calls still admitted refresh the level too, and carry the callee's raises.)
 */
export class CalleeLevelCache {
  level = ADMIT_ALL;
  private refreshedAt = 0;
  private probedAt = -Infinity;

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

  /** For a call that `sheds` turned away: true (at most once per PROBE_INTERVAL_MS) sends it anyway. */
  probe(at: number): boolean {
    if (at - this.probedAt < PROBE_INTERVAL_MS) return false;
    this.probedAt = at;
    return true;
  }
}
