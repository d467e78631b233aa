import { createHmac } from 'node:crypto';
import { USER_LEVELS } from '../priority.ts';

const HOUR_MS = 3_600_000;

/** The hour number (hours since the epoch) that keys user priorities at `timeMs`. */
export function priorityHour(timeMs = Date.now()): number {
  return Math.floor(timeMs / HOUR_MS);
}

/**
 * The user priority (0..127) of a user in a given hour: a keyed hash (HMAC-SHA256) of the user
 * id, with a key derived from the shared secret and the hour number. Every entry service with
 * the same secret computes the same priority for the same user in the same hour; the next hour
 * reshuffles users, so nobody is always the first to be shed. Use a user id, never a session id:
 * logging in again must not change one's priority.
 */
export function userPriority(userId: string, secret: string | Buffer, hour = priorityHour()): number {
  return hashToLevel(createHmac('sha256', hourlyKey(secret, hour)).update(userId).digest());
}

/** The key of one hour: HMAC(secret, "corpc-user-priority/<hour>"). */
export function hourlyKey(secret: string | Buffer, hour: number): Buffer {
  return createHmac('sha256', secret).update(`corpc-user-priority/${hour}`).digest();
}

function hashToLevel(digest: Buffer): number {
  return digest.readUInt32BE(0) % USER_LEVELS;
}

/**
 * `userPriority` for one secret, with the hourly key cached: what an entry server calls per
 * request (one HMAC over the user id).
 */
export class UserPriorities {
  private hour = -1;
  private key: Buffer = Buffer.alloc(0);

  constructor(private readonly secret: string | Buffer) {}

  of(userId: string, timeMs = Date.now()): number {
    const hour = priorityHour(timeMs);
    if (hour !== this.hour) {
      this.key = hourlyKey(this.secret, hour);
      this.hour = hour;
    }
    return hashToLevel(createHmac('sha256', this.key).update(userId).digest());
  }
}
