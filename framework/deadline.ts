import { performance } from 'node:perf_hooks';

/**
 * Deadlines without a timer per request: one shared hashed timing wheel (the approach libco
 * takes for its coroutine timeouts). Entries are intrusive — the call records themselves carry
 * the wheel's links — so adding and removing a deadline allocates nothing.
 *
 * Times are `performance.now()` milliseconds: monotonic, and local to this process. On the wire
 * a deadline is always sent as the remaining budget in milliseconds, never as a clock reading.
 */

/** Milliseconds on this process's monotonic clock. */
export function now(): number {
  return performance.now();
}

/** A record the wheel can hold. The `timer*` fields belong to the wheel; set them to the defaults and leave them. */
export interface TimerEntry {
  timerExpiresAt: number;
  timerSlot: number;
  timerPrev: TimerEntry | null;
  timerNext: TimerEntry | null;
  /** Called once, from the wheel's tick, when the entry's time has come. */
  onTimer(): void;
}

export class TimingWheel {
  private readonly tickMs: number;
  private readonly mask: number;
  private readonly slots: (TimerEntry | null)[];
  private currentTick = 0;
  private count = 0;
  private idleTicks = 0;
  private interval: NodeJS.Timeout | null = null;
  /** Entries that must keep the process alive (see hold()). */
  private holds = 0;
  private readonly due: TimerEntry[] = [];
  private readonly tickBound = (): void => this.tick();

  /** `slotCount` must be a power of two; the wheel turns once every `tickMs * slotCount` ms. */
  constructor(tickMs = WHEEL_TICK_MS, slotCount = 1024) {
    this.tickMs = tickMs;
    this.mask = slotCount - 1;
    this.slots = new Array<TimerEntry | null>(slotCount).fill(null);
  }

  /** How many entries are waiting. */
  get size(): number {
    return this.count;
  }

  /** Schedules `entry.onTimer()` at `expiresAt` (a `now()` reading), at most one tick late. */
  add(entry: TimerEntry, expiresAt: number): void {
    if (entry.timerSlot !== -1) this.remove(entry);
    if (this.interval === null) this.start();
    let tick = Math.ceil(expiresAt / this.tickMs);
    if (tick <= this.currentTick) tick = this.currentTick + 1;
    const slot = tick & this.mask;
    const head = this.slots[slot]!;
    entry.timerExpiresAt = expiresAt;
    entry.timerSlot = slot;
    entry.timerPrev = null;
    entry.timerNext = head;
    if (head !== null) head.timerPrev = entry;
    this.slots[slot] = entry;
    this.count++;
  }

  /** Cancels a scheduled entry; a no-op for one that is not scheduled. */
  remove(entry: TimerEntry): void {
    const slot = entry.timerSlot;
    if (slot === -1) return;
    const { timerPrev: prev, timerNext: next } = entry;
    if (prev === null) this.slots[slot] = next;
    else prev.timerNext = next;
    if (next !== null) next.timerPrev = prev;
    entry.timerSlot = -1;
    entry.timerPrev = null;
    entry.timerNext = null;
    this.count--;
  }

  /**
   * Keeps the process alive until the matching release(). A call's deadline needs no hold (its
   * socket keeps the process alive); a wait that nothing but its deadline will end does.
   */
  hold(): void {
    if (this.holds++ === 0) this.interval?.ref();
  }

  release(): void {
    if (--this.holds === 0) this.interval?.unref();
  }

  private start(): void {
    this.currentTick = Math.floor(now() / this.tickMs);
    this.idleTicks = 0;
    this.interval = setInterval(this.tickBound, this.tickMs);
    // A pending deadline alone does not keep the process alive (the socket it guards does),
    // unless an entry asked for it with hold().
    if (this.holds === 0) this.interval.unref();
  }

  private tick(): void {
    const time = now();
    const target = Math.floor(time / this.tickMs);
    // After a long stall, every slot is visited once; entries not yet due stay where they are.
    const first = Math.max(this.currentTick + 1, target - this.mask);
    for (let t = first; t <= target; t++) this.expireSlot(t & this.mask, time);
    this.currentTick = target;
    if (this.count > 0) {
      this.idleTicks = 0;
    } else if (++this.idleTicks > 250) {
      // Stop turning after ~1 s with nothing to do; the next add() starts it again.
      clearInterval(this.interval!);
      this.interval = null;
    }
  }

  private expireSlot(slot: number, time: number): void {
    // Unlink everything due first, then run the callbacks: a callback may add or remove
    // other entries, which must not disturb this walk.
    const due = this.due;
    let entry = this.slots[slot]!;
    while (entry !== null) {
      const next = entry.timerNext;
      if (entry.timerExpiresAt <= time) {
        this.remove(entry);
        due.push(entry);
      }
      entry = next!;
    }
    for (let i = 0; i < due.length; i++) {
      const expired = due[i]!;
      // A callback before this one may have scheduled it again.
      if (expired.timerSlot === -1) expired.onTimer();
    }
    due.length = 0;
  }
}

/** The wheel shared by every client and server in this process. */
/** The shared wheel's resolution: a deadline fires up to this much after its time. */
export const WHEEL_TICK_MS = 4;

export const sharedWheel = new TimingWheel();
