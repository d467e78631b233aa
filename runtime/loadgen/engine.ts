import { Status, type CallOptions } from 'corpc';
import { now } from 'corpc/internal';
import { LatencyHistogram } from './histogram.ts';
import { Outcomes, reasonOf, statusOf } from './outcomes.ts';

/** Sends one request. The options object is reused between calls: read it synchronously. */
export type Send = (options: CallOptions) => Promise<unknown>;

export interface LoadPlan {
  /** Closed loop: this many requests kept in flight (each one sent when another finishes). */
  concurrency?: number | undefined;
  /** Open loop: arrivals per second, on a fixed schedule whatever the service does. */
  rate?: number | undefined;
  /** How long to measure, after the warm-up. One of durationMs and requests is needed. */
  durationMs?: number | undefined;
  /** How many requests to measure, after the warm-up. */
  requests?: number | undefined;
  /** Load before measuring (JIT, connections, caches); its requests are counted apart. */
  warmupMs?: number | undefined;
  /** Deadline of each request, in ms (default: the client's). */
  timeoutMs?: number | undefined;
  businessPriority?: number | undefined;
  /** Business priorities mixed by weight (each request draws one); outcomes are also counted per priority. Not with businessPriority. */
  priorityMix?: readonly { business: number; weight: number }[] | undefined;
  /** A fixed user priority, or `"random"`: uniform over 0..127 per request. Default: the client's. */
  userPriority?: number | 'random' | undefined;
  /** Calls `onInterval` this often while running. */
  intervalMs?: number | undefined;
  onInterval?: ((stats: IntervalStats) => void) | undefined;
}

/** One progress interval. */
export interface IntervalStats {
  /** Since the start of the run (warm-up included), in ms. */
  elapsedMs: number;
  warmup: boolean;
  /** Requests finished in this interval, of those succeeded, and failed. */
  completed: number;
  ok: number;
  errors: number;
  /** The interval's outcomes by status and reason (Outcomes.byReason). */
  outcomes: Record<string, number>;
  /** Finished per second in this interval. */
  rate: number;
  /** Latency of the successful requests of this interval, in ms. */
  p50: number;
  p99: number;
  inFlight: number;
  /** Sent so far in the measured phase. */
  sent: number;
}

/** What one business priority of a mix sent, and how its requests ended. */
export interface PriorityTally {
  sent: number;
  readonly outcomes: Outcomes;
}

/** What one phase (warm-up or measured) sent and how each request ended. */
export class Tally {
  sent = 0;
  readonly outcomes = new Outcomes();
  /** Latency of the requests that succeeded. */
  readonly latency = new LatencyHistogram();
  /** With a priority mix: per business priority (indexed by it). */
  readonly byBusiness: (PriorityTally | undefined)[] = [];

  /** Counts one request sent with business priority `business` (-1: no mix). */
  sentWith(business: number): void {
    this.sent++;
    if (business >= 0) (this.byBusiness[business] ??= { sent: 0, outcomes: new Outcomes() }).sent++;
  }
}

export interface LoadResult {
  mode: 'closed' | 'open';
  /** Every measured request, counted once in `outcomes` (sent === sum of outcomes). */
  measured: Tally;
  warmup: Tally;
  /** From the end of the warm-up to the last measured answer, in ms. */
  elapsedMs: number;
  /** Measured requests finished per second. */
  requestsPerS: number;
  timeline: IntervalStats[];
}

/**
 * Drives a `send` function in a closed loop (fixed concurrency) or an open loop (fixed arrival
 * rate). In the open loop, latency is measured from each request's *intended* send time, so a
 * service (or a generator) that falls behind shows it in the latency instead of hiding it
 * (coordinated omission). Returns once every request sent has finished.
 */
export async function runLoad(send: Send, plan: LoadPlan): Promise<LoadResult> {
  const run = new Run(send, plan);
  return run.start();
}

class Run {
  readonly measured = new Tally();
  readonly warmup = new Tally();
  private readonly interval = new LatencyHistogram();
  private intervalCompleted = 0;
  private intervalErrors = 0;
  private intervalOutcomes = new Outcomes();
  /** Cumulative weights of the priority mix, for drawing one per request. */
  private readonly mix: { business: number; upTo: number }[];
  private readonly timeline: IntervalStats[] = [];
  private readonly options: CallOptions = {};
  private readonly randomUser: boolean;
  private t0 = 0;
  private measureStart = 0;
  private stopAt = Infinity;
  private remaining = Infinity;
  private inFlight = 0;
  private lastAnswer = 0;
  private lastTick = 0;

  constructor(
    private readonly send: Send,
    private readonly plan: LoadPlan,
  ) {
    if (plan.timeoutMs !== undefined) this.options.timeoutMs = plan.timeoutMs;
    if (plan.businessPriority !== undefined) this.options.businessPriority = plan.businessPriority;
    this.randomUser = plan.userPriority === 'random';
    if (typeof plan.userPriority === 'number') this.options.userPriority = plan.userPriority;
    let upTo = 0;
    this.mix = (plan.priorityMix ?? []).map(({ business, weight }) => ({ business, upTo: (upTo += weight) }));
    if ((plan.concurrency === undefined) === (plan.rate === undefined)) {
      throw new TypeError('runLoad: give exactly one of concurrency (closed loop) and rate (open loop)');
    }
    if (plan.durationMs === undefined && plan.requests === undefined) {
      throw new TypeError('runLoad: give durationMs or requests');
    }
  }

  async start(): Promise<LoadResult> {
    this.t0 = now();
    this.measureStart = this.t0 + (this.plan.warmupMs ?? 0);
    if (this.plan.durationMs !== undefined) this.stopAt = this.measureStart + this.plan.durationMs;
    if (this.plan.requests !== undefined) this.remaining = this.plan.requests;
    let ticker: NodeJS.Timeout | null = null;
    if (this.plan.onInterval !== undefined || this.plan.intervalMs !== undefined) {
      ticker = setInterval(() => this.tick(), this.plan.intervalMs ?? 1000);
    }
    try {
      if (this.plan.concurrency !== undefined) {
        const workers: Promise<void>[] = [];
        for (let i = 0; i < this.plan.concurrency; i++) workers.push(this.worker());
        await Promise.all(workers);
      } else {
        await this.schedule(this.plan.rate!);
      }
    } finally {
      if (ticker !== null) clearInterval(ticker);
    }
    const elapsedMs = Math.max(0.001, this.lastAnswer - this.measureStart);
    return {
      mode: this.plan.concurrency !== undefined ? 'closed' : 'open',
      measured: this.measured,
      warmup: this.warmup,
      elapsedMs,
      requestsPerS: (this.measured.outcomes.total * 1000) / elapsedMs,
      timeline: this.timeline,
    };
  }

  /** The phase a request sent at `time` belongs to, or null when the run has sent enough. */
  private phase(time: number): Tally | null {
    if (time < this.measureStart) return this.warmup;
    if (time >= this.stopAt || this.remaining === 0) return null;
    this.remaining--;
    return this.measured;
  }

  private callOptions(): CallOptions {
    if (this.randomUser) this.options.userPriority = (Math.random() * 128) | 0;
    const mix = this.mix;
    if (mix.length > 0) {
      const draw = Math.random() * mix[mix.length - 1]!.upTo;
      let i = 0;
      while (mix[i]!.upTo <= draw && i < mix.length - 1) i++;
      this.options.businessPriority = mix[i]!.business;
    }
    return this.options;
  }

  /** The business priority the last callOptions() drew, -1 without a mix. */
  private get drawn(): number {
    return this.mix.length > 0 ? this.options.businessPriority! : -1;
  }

  private async worker(): Promise<void> {
    for (;;) {
      const startedAt = now();
      const tally = this.phase(startedAt);
      if (tally === null) return;
      const options = this.callOptions();
      const business = this.drawn;
      tally.sentWith(business);
      this.inFlight++;
      let status: number = Status.OK;
      let reason = '';
      try {
        await this.send(options);
      } catch (error) {
        status = statusOf(error);
        reason = reasonOf(error);
      }
      this.finish(tally, startedAt, status, reason, business);
      // A failure can come back within the same tick (a refused call): give I/O and timers a turn
      // so that a loop of instant failures cannot starve reconnects and progress reports.
      if (status !== Status.OK) await new Promise(setImmediate);
    }
  }

  private schedule(rate: number): Promise<void> {
    const period = 1000 / rate;
    let index = 0;
    return new Promise((resolve) => {
      let scheduling = true;
      const settled = (tally: Tally, intended: number, status: number, reason: string, business: number): void => {
        this.finish(tally, intended, status, reason, business);
        if (!scheduling && this.inFlight === 0) resolve();
      };
      const fire = (tally: Tally, intended: number): void => {
        let promise: Promise<unknown>;
        const options = this.callOptions();
        const business = this.drawn;
        tally.sentWith(business);
        try {
          promise = this.send(options);
        } catch (error) {
          promise = Promise.reject(error);
        }
        promise.then(
          () => settled(tally, intended, Status.OK, '', business),
          (error: unknown) => settled(tally, intended, statusOf(error), reasonOf(error), business),
        );
      };
      const tick = (): void => {
        const time = now();
        for (;;) {
          const intended = this.t0 + index * period;
          if (intended > time) break;
          const tally = this.phase(intended);
          if (tally === null) {
            scheduling = false;
            if (this.inFlight === 0) resolve();
            return;
          }
          index++;
          this.inFlight++;
          fire(tally, intended);
        }
        setTimeout(tick, Math.max(0, this.t0 + index * period - now()));
      };
      tick();
    });
  }

  private finish(tally: Tally, since: number, status: number, reason: string, business: number): void {
    const time = now();
    this.inFlight--;
    tally.outcomes.add(status, reason);
    if (business >= 0) tally.byBusiness[business]!.outcomes.add(status, reason);
    this.intervalOutcomes.add(status, reason);
    this.intervalCompleted++;
    if (status === Status.OK) {
      tally.latency.record(time - since);
      this.interval.record(time - since);
    } else {
      this.intervalErrors++;
    }
    if (tally === this.measured) this.lastAnswer = time;
  }

  private tick(): void {
    const time = now();
    const since = this.lastTick === 0 ? this.t0 : this.lastTick;
    this.lastTick = time;
    const stats: IntervalStats = {
      elapsedMs: time - this.t0,
      warmup: time < this.measureStart,
      completed: this.intervalCompleted,
      ok: this.intervalCompleted - this.intervalErrors,
      errors: this.intervalErrors,
      outcomes: this.intervalOutcomes.byReason(),
      rate: (this.intervalCompleted * 1000) / Math.max(1, time - since),
      p50: this.interval.percentile(50),
      p99: this.interval.percentile(99),
      inFlight: this.inFlight,
      sent: this.measured.sent,
    };
    this.interval.reset();
    this.intervalCompleted = 0;
    this.intervalErrors = 0;
    this.intervalOutcomes = new Outcomes();
    if (!stats.warmup) this.timeline.push(stats);
    this.plan.onInterval?.(stats);
  }
}
