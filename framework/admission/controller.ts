import { channel } from 'node:diagnostics_channel';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { InvalidArgumentError, Reason } from '../errors.ts';
import { now } from '../deadline.ts';
import { booleanOption, integerOption, knownKeys, numberOption, oneOfOption, optionNames } from '../options.ts';
import { ADMIT_ALL, businessOf, userOf } from '../priority.ts';
import { POLICY_NAMES, QUEUING_THRESHOLD_MS, createPolicy, type PolicyName, type PolicyOptions } from './policies.ts';
import { loopDelay, type LoopDelayShare } from './loop-delay.ts';
import type { AdmissionPolicy, AdmissionWindow } from './policy.ts';

/** Every closed window's metrics are published here (an `AdmissionMetrics` object). */
export const ADMISSION_WINDOW_CHANNEL = 'corpc:admission:window';
const windowChannel = channel(ADMISSION_WINDOW_CHANNEL);

/** Why a request was turned away (the `reason` of its RESOURCE_EXHAUSTED/DEADLINE_EXCEEDED answer). */
export type RejectReason =
  | typeof Reason.AdmissionLevel
  | typeof Reason.QueueFull
  | typeof Reason.Expired
  | typeof Reason.QueueDelay;

export interface AdmissionOptions extends PolicyOptions {
  /** A built-in policy by name, or your own. Default `"dagor"`. */
  policy?: PolicyName | AdmissionPolicy;
  /** Decide and report, reject nothing; callers are told to admit everything. Default false. */
  dryRun?: boolean;
  /**
   * A window ends after this many ms — unless fewer than 16 requests started in it and they
   * queued longer than `queuingThresholdMs` on average: then it goes on until 16 have (or ten
   * times this long), so that a few slow requests at low traffic do not pass for an overload…
   * Default 100.
   */
  windowMs?: number;
  /** …or after this many arrivals, whichever comes first. Default 2000. */
  windowRequests?: number;
}

const ADMISSION_OPTIONS = optionNames<AdmissionOptions>({
  policy: true,
  dryRun: true,
  windowMs: true,
  windowRequests: true,
  queuingThresholdMs: true,
  responseThresholdMs: true,
  alpha: true,
  beta: true,
  maxRaiseLevels: true,
  codelTargetMs: true,
  codelIntervalMs: true,
  sedaTargetMs: true,
});

/** Per-method counts of one window. */
export interface MethodAdmission {
  arrived: number;
  admitted: number;
  rejected: number;
}

/** The metrics of one closed window (`server.admission.metrics()`, and the diagnostics channel). */
export interface AdmissionMetrics {
  policy: string;
  dryRun: boolean;
  /** When the window ended, in ms since the epoch. */
  endedAt: number;
  durationMs: number;
  arrived: number;
  admitted: number;
  /** Decisions against requests; in dry-run mode they were counted, not enforced. */
  rejected: Record<RejectReason, number>;
  /** Requests that left the queue for a handler. */
  started: number;
  /** Queuing time (arrival → handler start, event-loop delay included) of the requests that started. */
  avgQueuingMs: number;
  p99QueuingMs: number;
  avgResponseMs: number;
  p90ResponseMs: number;
  /** Expected wait of bytes arriving while the event loop was busy, averaged over the window. */
  loopDelayMs: number;
  /** How busy the worker was: the larger of the event loop's utilisation and the handler slots' (0..1). */
  utilization: number;
  /** The event loop's utilisation over the window (the process's). */
  loopUtilization: number;
  /** Handlers running, averaged over the window, per handler slot (`concurrency`). */
  slotUtilization: number;
  overloaded: boolean;
  /** The admission level after this window: compound, and as (B, U). */
  level: number;
  business: number;
  user: number;
  methods: Record<string, MethodAdmission>;
}

const SAMPLES = 2048;
/**
 * A window of fewer started requests than this says little about queuing time (one GC pause at
 * low traffic would read as an overload): if it looks overloaded, it goes on, up to
 * MAX_WINDOW_FACTOR × windowMs. One that looks calm ends on time, so a level left low after an
 * overload climbs back at the window's pace even when only a trickle of calls still arrives.
 */
const MIN_WINDOW_STARTS = 16;
const MAX_WINDOW_FACTOR = 10;

/**
 * The per-worker admission controller: sits between the frame decoder and the handler queue.
 * Per request it is O(1) (count in the histogram, ask the policy, time the queue); per window
 * (100 ms with at least 16 requests started, at most 1 s, or 2,000 requests) it summarises, lets
 * the policy adjust, and publishes metrics. The paper's 1 s window reacts in seconds at a few
 * hundred calls per second, which is where a CPU-bound Node worker saturates.
 *
 * Queuing time includes the event loop's own delay: when the loop is saturated (a CPU-bound
 * overload), requests wait in the kernel's socket buffer where no in-process timestamp can see
 * them. `monitorEventLoopDelay` measures how late the loop runs; from it the expected wait of a
 * byte arriving at a random moment (Σ delay² / 2·window) is derived and added to every request's
 * queuing time. The monitor is the process's, shared by its servers (loop-delay.ts says how the
 * delay is attributed among them).
 */
export class AdmissionController {
  readonly policy: AdmissionPolicy;
  readonly dryRun: boolean;
  readonly windowMs: number;
  readonly windowRequests: number;
  private readonly histogram = new Uint32Array(ADMIT_ALL + 1);
  private readonly queueSamples = new Float64Array(SAMPLES);
  private readonly responseSamples = new Float64Array(SAMPLES);
  /** Scratch space for the percentile selection (no allocation per window). */
  private readonly scratch = new Float64Array(SAMPLES);
  private readonly methods = new Map<string, MethodAdmission>();
  private readonly rejected: Record<RejectReason, number> = {
    admission_level: 0,
    queue_full: 0,
    expired: 0,
    queue_delay: 0,
  };
  private windowStart = now();
  private arrived = 0;
  private admitted = 0;
  private started = 0;
  private dropped = 0;
  private queueSum = 0;
  private answered = 0;
  private responseSum = 0;
  /** Handler time (start → answer) of the answered requests whose handler ran, and their count. */
  private runSum = 0;
  private ranAnswered = 0;
  /** Requests admitted that have not started yet (the queue, as the controller counts it). */
  private waiting = 0;
  /** Requests started and not yet answered, and the integral of that count over the window (ms). */
  private running = 0;
  private runningMs = 0;
  private runningSince = 0;
  /** A window that looks overloaded on few requests goes on (see `windowMs`). */
  private readonly queuingThresholdMs: number;
  /** Handler slots of the server (its concurrency). */
  private readonly slots: number;
  /** The event loop's utilisation counters at the start of the window. */
  private loopUsage: EventLoopUtilization = performance.eventLoopUtilization();
  /** The last window's loop delay, added to each request's measured queuing time. */
  private loopDelayMs = 0;
  /** This controller's part of the process's loop delay (registered while open). */
  private readonly loopShare: LoopDelayShare = { busyMs: 0, delayMs: 0, weight: 1 };
  private timer: NodeJS.Timeout | null = null;
  private last: AdmissionMetrics | null = null;

  /** `slots`: the server's handler concurrency (for the slots' utilisation). */
  constructor(options: AdmissionOptions = {}, slots = Infinity) {
    knownKeys('admission', options, ADMISSION_OPTIONS);
    this.slots = slots;
    const policy = options.policy ?? 'dagor';
    if (typeof policy === 'string') {
      this.policy = createPolicy(oneOfOption('admission.policy', policy, 'dagor', POLICY_NAMES), options);
    } else if (isPolicy(policy)) {
      this.policy = policy;
    } else {
      throw new InvalidArgumentError(
        `admission.policy must be one of ${POLICY_NAMES.join(', ')} or an object with admit, dequeue and onWindow, got ${String(policy)}`,
      );
    }
    this.dryRun = booleanOption('admission.dryRun', options.dryRun, false);
    this.windowMs = integerOption('admission.windowMs', options.windowMs, 100, 10);
    this.windowRequests = integerOption('admission.windowRequests', options.windowRequests, 2000, 1);
    this.queuingThresholdMs = numberOption(
      'admission.queuingThresholdMs',
      options.queuingThresholdMs,
      QUEUING_THRESHOLD_MS,
      0,
    );
  }

  /** The level sent to callers with every answer. */
  get advertisedLevel(): number {
    return this.dryRun ? ADMIT_ALL : this.policy.advertisedLevel;
  }

  /** @internal Starts the window timer and the event-loop monitor (the server calls it on listen). */
  open(): void {
    if (this.timer !== null) return;
    loopDelay.join(this.loopShare);
    this.windowStart = now();
    this.loopUsage = performance.eventLoopUtilization();
    this.timer = setInterval(
      () => {
        const at = now();
        if (this.windowDue(at)) this.endWindow(at);
      },
      Math.max(10, this.windowMs / 4),
    );
    this.timer.unref();
  }

  /** @internal Stops the timer and the monitor (the server calls it on close). */
  close(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    loopDelay.leave(this.loopShare);
  }

  /** @internal Per-method counters, created once per method when the server registers it. */
  methodCounters(path: string): MethodAdmission {
    let counters = this.methods.get(path);
    if (counters === undefined) {
      counters = { arrived: 0, admitted: 0, rejected: 0 };
      this.methods.set(path, counters);
    }
    return counters;
  }

  /** @internal A request at compound `level` arrived at `at`: true admits it (always, in dry-run mode). */
  arrive(level: number, at: number, counters: MethodAdmission): boolean {
    if (this.arrived >= this.windowRequests || this.windowDue(at)) this.endWindow(at);
    this.histogram[level]!++;
    this.arrived++;
    counters.arrived++;
    if (this.policy.admit(level, at)) {
      this.admitted++;
      counters.admitted++;
      this.waiting++;
      return true;
    }
    this.rejected.admission_level++;
    counters.rejected++;
    if (this.dryRun) this.waiting++;
    return this.dryRun;
  }

  /** @internal A request was turned away by the server itself (queue ceiling, deadline). */
  reject(reason: RejectReason, counters: MethodAdmission): void {
    this.rejected[reason]++;
    counters.rejected++;
    // Admitted a moment ago, it never enters the queue.
    if (reason === Reason.QueueFull) this.waiting--;
  }

  /** @internal
   * A request at compound `level` leaves the queue after `waitedMs` in the process: records its
   * queuing time (plus the loop delay) and returns why it must be dropped, or null to run it.
   * It is dropped when the policy says so (CoDel), or when the level fell below it while it
   * waited: the worker shed that level, and serving the backlog admitted before the cut would
   * keep the queue long (and make the more important requests queued behind it miss their
   * deadlines) for as long as it takes to drain. Never dropped in dry-run mode.
   */
  start(waitedMs: number, at: number, level: number, counters: MethodAdmission): RejectReason | null {
    const queuingMs = waitedMs + this.loopDelayMs;
    this.countRunning(at, 1);
    this.waiting--;
    this.queueSamples[this.started % SAMPLES] = queuingMs;
    this.started++;
    this.queueSum += queuingMs;
    if (level > this.policy.level) {
      this.rejected.admission_level++;
      counters.rejected++;
      if (this.dryRun) return null;
      this.dropped++;
      return Reason.AdmissionLevel;
    }
    if (this.policy.dequeue(queuingMs, at)) return null;
    this.rejected.queue_delay++;
    counters.rejected++;
    if (this.dryRun) return null;
    this.dropped++;
    return Reason.QueueDelay;
  }

  /** @internal
   * A running handler waited `ms` for the event loop to deliver a downstream answer it awaited
   * (loop-turn.ts, `resumeQueue`): queuing time as surely as a wait before its start, so it counts
   * in the window's queuing time (per started request), not as a sample of its own.
   */
  waitedForLoop(ms: number): void {
    this.queueSum += ms;
  }

  /** @internal A started request's handler held the event loop for `busyMs` (decode + its synchronous part). */
  ran(busyMs: number): void {
    this.loopShare.busyMs += busyMs;
  }

  /** @internal
   * A request that started was answered at `at`, `responseMs` after it arrived, its handler having
   * run `runMs` from its start (-1: it was dropped or cancelled at start and never ran one).
   */
  finish(responseMs: number, at: number, runMs: number): void {
    this.countRunning(at, -1);
    if (runMs >= 0) {
      this.runSum += runMs;
      this.ranAnswered++;
    }
    this.responseSamples[this.answered % SAMPLES] = responseMs;
    this.answered++;
    this.responseSum += responseMs;
  }

  /** A stream that started has ended at `at`: its slot is free again. Its length is not a service time, so no sample is taken. */
  streamFinished(at: number): void {
    this.countRunning(at, -1);
  }

  /** Whether the window has lasted long enough at `at` (the request count is checked on arrival). */
  private windowDue(at: number): boolean {
    const elapsed = at - this.windowStart;
    if (elapsed < this.windowMs) return false;
    return (
      this.started >= MIN_WINDOW_STARTS ||
      this.queueSum <= this.queuingThresholdMs * this.started ||
      elapsed >= this.windowMs * MAX_WINDOW_FACTOR
    );
  }

  /** Integrates the number of running requests up to `at`, then changes it by `change`. */
  private countRunning(at: number, change: number): void {
    if (at > this.runningSince) {
      this.runningMs += this.running * (at - this.runningSince);
      this.runningSince = at;
    }
    this.running += change;
  }

  /** The event loop's utilisation since the last call (the process's: what a CPU-bound worker saturates). */
  private loopUtilization(): number {
    const usage = performance.eventLoopUtilization();
    const loop = performance.eventLoopUtilization(usage, this.loopUsage).utilization;
    this.loopUsage = usage;
    return loop;
  }

  /** The last closed window's metrics, or null before the first window closes. */
  metrics(): AdmissionMetrics | null {
    return this.last;
  }

  /** @internal
   * Closes the current window: summarise, let the policy adjust, publish, reset. `utilization`
   * is measured unless given (tests of the control law give it).
   */
  endWindow(at = now(), utilization?: number): void {
    const durationMs = Math.max(0, at - this.windowStart);
    // How busy the worker was: the larger of the loop's utilisation and the slots' (a slot-bound worker).
    this.countRunning(at, 0);
    const slotUtilization = durationMs > 0 ? Math.min(1, this.runningMs / (durationMs * this.slots)) : 0;
    this.runningMs = 0;
    const loopUtilization = this.loopUtilization();
    const busy = utilization ?? Math.max(loopUtilization, slotUtilization);
    if (this.timer !== null) {
      loopDelay.refresh(at);
      this.loopDelayMs = this.loopShare.delayMs;
    }
    const avgQueuingMs = this.started > 0 ? this.queueSum / this.started : this.loopDelayMs;
    const avgResponseMs = this.answered > 0 ? this.responseSum / this.answered : 0;
    const p90ResponseMs = percentile(this.responseSamples, this.answered, 0.9, this.scratch);
    const window: AdmissionWindow = {
      durationMs,
      histogram: this.histogram,
      arrived: this.arrived,
      admitted: this.admitted,
      started: this.started,
      dropped: this.dropped,
      avgQueuingMs,
      avgResponseMs,
      p90ResponseMs,
      loopDelayMs: this.loopDelayMs,
      utilization: busy,
      // The loop's utilisation attributed to this server, as its delay is (loop-delay.ts).
      loopUtilization: utilization === undefined ? loopUtilization * this.loopShare.weight : busy,
      avgRunMs: this.ranAnswered > 0 ? this.runSum / this.ranAnswered : 0,
      ran: this.ranAnswered,
      waiting: Math.max(0, this.waiting),
    };
    this.policy.onWindow(window);
    const level = this.policy.level;
    const methods: Record<string, MethodAdmission> = {};
    for (const [path, counters] of this.methods) {
      if (counters.arrived > 0 || counters.rejected > 0) methods[path] = { ...counters };
      counters.arrived = counters.admitted = counters.rejected = 0;
    }
    this.last = {
      policy: this.policy.name,
      dryRun: this.dryRun,
      endedAt: Date.now(),
      durationMs,
      arrived: this.arrived,
      admitted: this.admitted,
      rejected: { ...this.rejected },
      started: this.started,
      avgQueuingMs,
      p99QueuingMs: percentile(this.queueSamples, this.started, 0.99, this.scratch),
      avgResponseMs,
      p90ResponseMs,
      loopDelayMs: this.loopDelayMs,
      utilization: busy,
      loopUtilization,
      slotUtilization,
      overloaded: this.policy.overloaded,
      level,
      business: businessOf(level),
      user: userOf(level),
      methods,
    };
    if (windowChannel.hasSubscribers) windowChannel.publish(this.last);
    this.histogram.fill(0);
    this.windowStart = at;
    this.arrived = this.admitted = this.started = this.dropped = this.answered = 0;
    this.queueSum = this.responseSum = this.runSum = 0;
    this.ranAnswered = 0;
    this.rejected.admission_level = this.rejected.queue_full = this.rejected.expired = this.rejected.queue_delay = 0;
  }
}

/**
 * The p-quantile of the first min(count, SAMPLES) samples: copied to `scratch` and found by
 * quickselect (Hoare partition, median-of-three pivot), O(n) expected, no allocation. Sorting
 * 2 × 2,048 samples at every window end cost ~2.5% of a busy server's CPU.
 */
export function percentile(samples: Float64Array, count: number, p: number, scratch: Float64Array): number {
  const n = Math.min(count, SAMPLES, samples.length);
  if (n === 0) return 0;
  const a = scratch;
  for (let i = 0; i < n; i++) a[i] = samples[i]!;
  const k = Math.min(n - 1, Math.floor(p * n));
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    // Median of three as the pivot value.
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

function isPolicy(value: unknown): value is AdmissionPolicy {
  const candidate = value as Partial<AdmissionPolicy> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.admit === 'function' &&
    typeof candidate.dequeue === 'function' &&
    typeof candidate.onWindow === 'function'
  );
}
