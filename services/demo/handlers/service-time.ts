import { sleep } from 'corpc';

/**
 * Realistic service times for the basic services: what a database or cache round trip costs.
 * With a unit's `maxConcurrency` they fix its capacity (slots / time), so the surge bench can
 * overload the demo on purpose: Messages has 2 slots of ~20 ms per worker, about 100 calls/s,
 * so the surge's 10x peak (500 req/s, 70 % of it messages and feed posts) overloads Messages by
 * its slots about 1.75x while the whole demo still needs only a fraction of two cores. (A peak
 * that saturates the CPU instead overloads every unit of a worker at once; see docs/runtime.md.)
 */
export const serviceTimeMs = {
  getAccount: 2,
  checkPassword: 4,
  getProfile: 3,
  getBalance: 3,
  transfer: 6,
  storeMessage: 20,
  appendFeed: 20,
} as const;

/** Waits about `ms` (±20 %), like an I/O call would. */
export function work(ms: number): Promise<void> {
  return sleep(ms * (0.8 + Math.random() * 0.4));
}
