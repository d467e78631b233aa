import { createHmac } from 'node:crypto';
import { USER_LEVELS } from 'corpc';

/**
 * User priority at an entry: a keyed hash of the user id, so one user keeps one priority for an
 * hour (a task's calls succeed or fail together) but not across hours (fairness). The key of
 * each hour derives from a shared secret and the hour number, so every entry process agrees
 * without talking to the others. (The overload-control work owns the reference version; this
 * one is the runtime's until they are merged into one.)
 */
export class UserPriority {
  private hour = -1;
  private key: Buffer = Buffer.alloc(0);

  constructor(private readonly secret: string) {}

  of(userId: string, nowMs = Date.now()): number {
    const hour = Math.floor(nowMs / 3_600_000);
    if (hour !== this.hour) {
      this.hour = hour;
      this.key = createHmac('sha256', this.secret).update(String(hour)).digest();
    }
    return createHmac('sha256', this.key).update(userId).digest().readUInt32BE(0) % USER_LEVELS;
  }
}
