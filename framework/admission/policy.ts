/**
 * The pluggable admission policy. The controller (controller.ts) owns the windows, the arrival
 * histogram, the measurements and the metrics; a policy only decides. Built-in policies are
 * `none`, `random`, `codel`, `seda`, `dagor-rt`, `dagor-local` and `dagor` (policies.ts); users
 * may pass their own object implementing this interface as `ServerOptions.admission.policy`.
 */

/** What the controller measured in one window, handed to `AdmissionPolicy.onWindow`. */
export interface AdmissionWindow {
  /** Window length in ms (100 ms with 16 requests started, at most 1 s, or 2,000 requests). */
  readonly durationMs: number;
  /**
   * Arrivals per compound level `B*128+U` (admitted or not). Read-only for the policy; the
   * controller clears it after `onWindow` returns.
   */
  readonly histogram: Uint32Array;
  /** Requests that arrived (reached the admission decision). */
  readonly arrived: number;
  /** Requests the policy admitted. */
  readonly admitted: number;
  /** Requests that left the queue (admitted in this or an earlier window), run or dropped. */
  readonly started: number;
  /** Of those, the ones dropped at dequeue instead of run (the level fell below them, or CoDel). */
  readonly dropped: number;
  /** Average queuing time of requests that started, event-loop delay included, in ms. */
  readonly avgQueuingMs: number;
  /** Average response time (arrival → answer) of requests answered in this window, in ms. */
  readonly avgResponseMs: number;
  /** 90th-percentile response time of requests answered in this window, in ms. */
  readonly p90ResponseMs: number;
  /** Event-loop delay measured over the window, in ms. */
  readonly loopDelayMs: number;
  /**
   * How busy the worker was over the window, 0..1: the larger of the event loop's utilisation
   * and the handler slots' (handler time / (window × concurrency)). Low means room to admit more.
   */
  readonly utilization: number;
  /**
   * The event loop's utilisation over the window, 0..1, weighted by this server's part of the
   * loop (its handlers' busy time relative to the busiest server's in the process; 1 when alone).
   */
  readonly loopUtilization: number;
  /** Average time from handler start to answer of the requests answered in the window whose handler ran. */
  readonly avgRunMs: number;
  /** How many answered requests make `avgRunMs`. */
  readonly ran: number;
  /**
   * Requests admitted and still waiting for a handler at the window's end. None means the queue
   * that made the window's queuing time long is gone: a burst, or a stall of the loop (a GC pause,
   * a worker's cold start), not a standing queue.
   */
  readonly waiting: number;
}

export interface AdmissionPolicy {
  /** A short name for metrics (`"dagor"`). */
  readonly name: string;
  /** The compound level the policy admits up to now (ADMIT_ALL when it does not shed by level). */
  readonly level: number;
  /**
   * The level sent to callers in every answer, which they use to shed locally. ADMIT_ALL for
   * policies that do not want callers to filter (e.g. `dagor-local`).
   */
  readonly advertisedLevel: number;
  /** Whether the worker counts as overloaded after the last window (for metrics). */
  readonly overloaded: boolean;
  /**
   * Header-time decision, O(1): true admits a request of compound level `level` that arrived at
   * `at` (ms, `now()` clock). Called before the body is decoded.
   */
  admit(level: number, at: number): boolean;
  /**
   * Dequeue-time decision, O(1): false drops a request that waited `queuingMs` (CoDel drops here).
   * Most policies return true.
   */
  dequeue(queuingMs: number, at: number): boolean;
  /** End of a window: adjust. One pass over the histogram at most. */
  onWindow(window: AdmissionWindow): void;
}
