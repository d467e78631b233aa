import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { now } from '../deadline.ts';

const LOOP_RESOLUTION_MS = 10;
/**
 * The loop delay is estimated over at least this long. A busy worker closes a 2,000-request
 * window every few tens of ms, which holds only a sample or two of a 10 ms monitor: one GC pause
 * would then read as an overload. The estimate is refreshed once this much time has been sampled.
 */
const LOOP_HORIZON_MS = 500;

/** One admission controller's part in the process's event-loop delay. */
export interface LoopDelayShare {
  /** Time its handlers ran synchronously (decode + handler up to its first await) since the last estimate, in ms. */
  busyMs: number;
  /** The loop delay attributed to this controller's requests, in ms (read at its window ends). */
  delayMs: number;
  /** Its part of the loop, 0..1: its busy time relative to the busiest share's (1 when alone). */
  weight: number;
}

/**
 * The event loop is the process's, not a server's: one monitor per process, shared by every
 * admission controller in it (a runtime worker may host several servers). Its delay is
 * attributed to each controller in proportion to the time its handlers held the loop over the
 * horizon (body decode and the handler's synchronous part, timed at dequeue: one clock read per
 * request), relative to the busiest one: the server carrying most of the work sees the whole delay and
 * sheds its lowest priorities; a server with a trickle of (say) high-priority calls sees a
 * matching fraction and keeps serving them. As the busy server sheds, its share falls and the
 * others' rise: if a light server alone still overloads the CPU, it becomes the busiest and reacts.
 * With one server in the process (the common case) it sees the whole delay. Work a handler does
 * after its first await is not timed: a server whose CPU is spent in continuations is
 * under-counted (counting requests instead made an 8 ms CPU call weigh as much as a ping).
 */
class LoopDelayMonitor {
  private histogram: IntervalHistogram | null = null;
  private readonly shares = new Set<LoopDelayShare>();
  private since = now();

  /** A controller opened: start the monitor with the first one. */
  join(share: LoopDelayShare): void {
    if (this.shares.size === 0) {
      this.histogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
      this.histogram.enable();
      this.since = now();
    }
    share.busyMs = 0;
    share.delayMs = 0;
    share.weight = 1;
    this.shares.add(share);
  }

  /** A controller closed: stop the monitor with the last one. */
  leave(share: LoopDelayShare): void {
    if (!this.shares.delete(share) || this.shares.size > 0) return;
    this.histogram?.disable();
    this.histogram = null;
  }

  /** Called at every window end: re-estimates once the horizon has been sampled. */
  refresh(at: number): void {
    const histogram = this.histogram;
    if (histogram === null || at - this.since < LOOP_HORIZON_MS) return;
    const delayMs = expectedWait(histogram, at - this.since);
    histogram.reset();
    this.since = at;
    attribute(delayMs, this.shares);
  }
}

/**
 * The expected wait of a byte that arrives at a random moment of the sampled period, from the
 * loop's delays d_i (each sample is resolution + d_i): Σ d_i² / (2 · period).
 */
function expectedWait(loop: IntervalHistogram, durationMs: number): number {
  if (loop.count === 0 || durationMs <= 0) return 0;
  const n = loop.count;
  const mean = loop.mean / 1e6;
  const sd = loop.stddev / 1e6;
  const r = LOOP_RESOLUTION_MS;
  const sumSquares = n * (sd * sd + mean * mean) - 2 * r * n * mean + n * r * r;
  return Math.max(0, sumSquares / (2 * durationMs));
}

/** Splits `delayMs` over the shares by busy time, relative to the busiest; resets the counts. */
export function attribute(delayMs: number, shares: Iterable<LoopDelayShare>): void {
  let busiest = 0;
  for (const share of shares) busiest = Math.max(busiest, share.busyMs);
  for (const share of shares) {
    share.weight = busiest === 0 ? 1 : share.busyMs / busiest;
    share.delayMs = delayMs * share.weight;
    share.busyMs = 0;
  }
}

/** The process's monitor. */
export const loopDelay = new LoopDelayMonitor();
