import { sleep } from 'corpc';

/**
 * Realistic service times for the basic services: what a database or cache round trip costs.
 * With a unit's `maxConcurrency` they fix its capacity (slots / time), so the surge bench can
 * overload the demo on purpose: Messages has 2 slots of ~10 ms per worker, about 200 calls/s.
 */
export const serviceTimeMs = {
  getAccount: 2,
  checkPassword: 4,
  getProfile: 3,
  getBalance: 3,
  transfer: 6,
  storeMessage: 10,
  appendFeed: 10,
} as const;

/** Waits about `ms` (±20 %), like an I/O call would. */
export function work(ms: number): Promise<void> {
  return sleep(ms * (0.8 + Math.random() * 0.4));
}
