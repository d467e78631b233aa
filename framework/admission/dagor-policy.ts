import { ADMIT_ALL, BUSINESS_LEVELS, USER_LEVELS } from '../priority.ts';
import type { AdmissionPolicy, AdmissionWindow } from './policy.ts';

export interface DagorPolicyOptions {
  /** What marks a window as overloaded: its average queuing time (DAGOR) or response time (`dagor-rt`). */
  detection: 'queuing' | 'response';
  /** Send the level to callers so they shed locally (false for `dagor-local`). */
  advertise: boolean;
  /** Overloaded when the window's average queuing time is above this. Default 20 ms. */
  queuingThresholdMs: number;
  /** Overloaded when the window's average response time is above this (`dagor-rt`). */
  responseThresholdMs: number;
  /** Shed this fraction of the admitted load per overloaded window. Default 0.05. */
  alpha: number;
  /** Admit this much more load per calm window. Default 0.01. */
  beta: number;
  /** At most this many levels per raise when the histogram cannot say what a raise admits. Default 128. */
  maxRaiseLevels: number;
}

/**
 * The upper bound of the "slow up" factor. Each consecutive calm window doubles the raise
 * (beta, 2·beta, 4·beta…) up to this, so a level that fell during a 10x spike comes back in
 * seconds once the spike is over, while the first raise after an overload is still only beta.
 * The doubling stops short of the load the worker last failed to serve (like TCP's slow-start
 * threshold): near capacity the raise is beta again, so the level does not overshoot and swing.
 */
const MAX_RAISE_FRACTION = 0.25;

/**
 * The ceiling holds the raise at beta for at most this many calm windows. Near a real capacity
 * the worker overloads again well before (from 95% of the ceiling at 1% a window), which renews
 * it; a ceiling that outlives this is stale (capacity grew, or it came from a window overloaded
 * by a GC pause or a burst at low traffic, where beta is a fraction of one request and the
 * level would crawl up one user level a window).
 */
const CEILING_WINDOWS = 10;

/**
 * Below HEADROOM_UTILIZATION a calm worker has clear room: the raise grows the admitted load in
 * proportion (TARGET_UTILIZATION / utilisation, up to MAX_HEADROOM_GROWTH times a window, and not
 * past the ceiling while it holds). From TARGET_UTILIZATION up, by beta only. In between, the
 * usual law. After an overload ends, the level a spike left low would otherwise climb for seconds
 * while the worker sits idle and its callers shed locally what it could serve (the CPU-bound `cpu-spike` run kept over half
 * its calls shed 8 s after a 10x spike before this). A proportional raise from 0.75..0.9, where a
 * 100 ms window's utilisation swings with noise at capacity, overshot by a third and cost a cut.
 */
const HEADROOM_UTILIZATION = 0.75;
const TARGET_UTILIZATION = 0.9;
const MAX_HEADROOM_GROWTH = 4;

/** After this many consecutive windows without arrivals, a worker with room admits everything again. */
const IDLE_WINDOWS = 3;
/** The event loop counts as saturated at this utilisation: work waits in it (see DagorPolicy.queuingDelay). */
const SATURATED_LOOP = 0.95;
/** A window's average handler time counts for the floor when at least this many answers make it. */
const MIN_FLOOR_ANSWERS = 16;

/**
 * How much of the band density's evidence a window keeps (see DagorPolicy.bandDensity): about
 * four windows' worth, so that the few arrivals a window brings to the band's user levels are
 * averaged, while a real change of the load, beyond chance, restarts the estimate at once.
 */
const BAND_MEMORY = 0.75;
/** A window's count in the band departs from the estimate by more than this many Poisson standard deviations: the load changed. */
const BAND_CHANGE_SIGMAS = 3;

/** Share of the standing backlog an overloaded window's cut removes on top of alpha. */
const DRAIN_SHARE = 0.5;
/** However long the queue, one overloaded window keeps at least this share of what was served (before alpha). */
const MIN_KEEP = 0.75;

/**
 * DAGOR's admission law (see docs/overload-control.md): one histogram walk per window.
 *
 * - Overloaded: lower the level to the highest one whose cumulative arrivals fit in
 *   `(1 - alpha) * N`. N is the number admitted in the window, or — when the queue grew, i.e.
 *   fewer requests left the queue than entered it — the number that left it: that is what the
 *   worker can actually serve, so a 10x spike is cut to capacity in one window instead of 45.
 *   When the queue is already draining fast (more than `(1 + alpha) * N` left it), the long
 *   queuing time is the backlog of an earlier window, not this window's load: the level holds
 *   instead of sinking 5% a window until the backlog is gone (it fell into the highest business
 *   priority after a 10x step before this rule).
 * - Calm: raise to the lowest level whose cumulative arrivals reach `(1 + beta) * N` (counting,
 *   when callers filter, only the arrivals up to the level: see the trap below).
 *
 * The trap: once callers filter locally, the histogram no longer shows the load above the
 * level, so the walk cannot find `(1 + beta) * N`. Then the raise is extrapolated from the
 * density of arrivals at the user levels of the current business priority up to the level (user
 * priorities are a uniform hash, so the density just below the level predicts the density just
 * above it), and bounded by `maxRaiseLevels`. With no arrivals in that band, it crosses the empty
 * levels (admitting nothing new) up to the first user level of the next business priority that
 * has carried load, where one window measures the density before more of it is admitted; with
 * none known above, it raises by `maxRaiseLevels`, doubled per consecutive calm window. The level
 * therefore moves by about the same load fraction whether or not callers filter: it converges
 * instead of jumping to "admit all" and collapsing again.
 *
 * The ceiling (the slow-start threshold that stops the doubling near the load that last
 * overloaded the worker) is a *rate* (requests per ms), so windows cut short by the request
 * count and windows of a full second compare fairly; and it is lifted as soon as a calm window
 * admitted clearly more than that rate (by alpha): the worker has just shown that it serves it, so the ceiling was
 * stale (set by a window overloaded by a GC pause or another server's CPU while few requests
 * arrived) and must not hold recovery at beta. It also expires after CEILING_WINDOWS calm windows.
 * While it holds, it is also a dead band: a calm worker whose usual admitted load (averaged over
 * windows) already reaches `(1 - alpha)` of it raises no further.
 */
export class DagorPolicy implements AdmissionPolicy {
  readonly name: string;
  level = ADMIT_ALL;
  overloaded = false;
  private calmWindows = 0;
  /** Requests per ms the worker served when it was last overloaded (Infinity: none known). */
  private ceiling = Infinity;
  /** Calm windows since the ceiling was set. */
  private sinceCeiling = 0;
  /**
   * Requests per ms the worker served when it was last overloaded (0: never). Unlike the ceiling,
   * which stops holding the raise back after CEILING_WINDOWS calm windows, it stays: it is what
   * a level left low after a spike climbs back towards.
   */
  private served = 0;
  /**
   * Requests per ms the worker serves at capacity: averaged over its saturated windows (overloaded,
   * or calm with the loop or the slots busy), -1 when unknown. One window's count is a few
   * dozen requests at a few hundred calls per second, off by ±15 % by chance: a ceiling taken from
   * one window held the raise too low or let it overshoot (cpu-spike).
   */
  private capacity = -1;
  /**
   * Business priorities that have had arrivals (1) since the worker started: once callers filter,
   * the load above the level is invisible, and a raise must not cross one of these whole.
   */
  private readonly seenBusiness = new Uint8Array(BUSINESS_LEVELS);
  private readonly options: DagorPolicyOptions;
  /** Consecutive windows without arrivals. */
  private emptyWindows = 0;
  /** The lowest average time from handler start to answer seen (see queuingDelay). */
  private runFloorMs = Infinity;
  /** The queuing delay of the window that last cut the level, while the next window has not judged it; -1 otherwise. */
  private cutDelayMs = -1;
  /** Requests per ms admitted, averaged over the windows since the last cut (-1: none yet): the usual load a cut is judged against. */
  private admittedRate = -1;
  /**
   * The arrivals counted at the current business priority's user levels up to the level, and
   * the user levels × ms they were counted over, both decayed by BAND_MEMORY a window: their
   * ratio is the band's density (arrivals per user level per ms), which cuts and raises within
   * the band go by. One window's count there is a handful of arrivals: a raise extrapolated from
   * it jumped from 52 % of the mix to all of it (cpu-spike, a step to 1.4x).
   */
  private bandArrivals = 0;
  private bandExposure = 0;
  /** The business priority they were counted in (-1: none yet); a level that moves to another one starts afresh. */
  private bandBusiness = -1;
  /**
   * Whether the worker's event loop, not its handler slots, was what saturated when it last
   * saturated. Two rules against the noise of a loop-bound worker's windows apply to it only: the
   * dead band and the hold after a cut for a queue longer by chance. A slot-bound worker's windows
   * count what its slots served exactly, and both rules cost its M^x tasks 2–3 points (fairness).
   */
  private loopBound = false;

  constructor(name: string, options: DagorPolicyOptions) {
    this.name = name;
    this.options = options;
  }

  get advertisedLevel(): number {
    return this.options.advertise ? this.level : ADMIT_ALL;
  }

  /**
   * The window's queuing delay, 0 when its queue was not a standing one:
   * - the queuing time (arrival → handler start, the loop's delay included), when a queue still
   *   stands at the window's end — in the server's queue, or in the kernel while the loop's delay
   *   alone is above the threshold. A queue that has already drained was a burst or a brief stall
   *   (a restarted worker shed its first callers' retries for a cold start before this rule);
   * - while the event loop is saturated (by this server's work: its part of the loop), the
   *   handler time (start → answer) above its floor: handlers that burn CPU after an await start
   *   at once, and their work waits in the loop, where no start time sees it. With a loop that
   *   has room, a long handler time is a slow downstream, not this worker's queue (why DAGOR does
   *   not use response time), so it does not count.
   */
  private queuingDelay(window: AdmissionWindow): number {
    const threshold = this.options.queuingThresholdMs;
    if (window.ran >= MIN_FLOOR_ANSWERS) {
      // The floor: the lowest average handler time seen, drifting up (1 %, at least 0.05 ms a
      // window) so that a handler that became slower for good is not taken for a queue forever.
      this.runFloorMs = Math.min(window.avgRunMs, this.runFloorMs + Math.max(0.01 * this.runFloorMs, 0.05));
    }
    const standing = window.waiting > 0 || window.loopDelayMs > threshold;
    const queued = standing ? window.avgQueuingMs : 0;
    const inLoop = window.loopUtilization >= SATURATED_LOOP && window.ran > 0 ? window.avgRunMs - this.runFloorMs : 0;
    return Math.max(queued, inLoop);
  }

  /** Adds a saturated window's served rate to the capacity estimate, which becomes the ceiling (renewed). */
  private sampleCapacity(rate: number): void {
    this.capacity = this.capacity < 0 ? rate : 0.75 * this.capacity + 0.25 * rate;
    this.ceiling = this.served = this.capacity;
    this.sinceCeiling = 0;
  }

  /** Calm with the worker saturated and enough answers to count: it serves what it can, a sample of the capacity. */
  private servesAtCeiling(window: AdmissionWindow): boolean {
    return this.ceiling < Infinity && window.utilization >= SATURATED_LOOP && window.ran >= MIN_FLOOR_ANSWERS;
  }

  /**
   * Folds the window's arrivals in the current level's business priority (at its user levels up
   * to the level: above it, callers filter) into that band's density, and returns the arrivals
   * it predicts there for this window: what a cut or a raise within the band goes by.
   */
  private bandDensity(window: AdmissionWindow, durationMs: number): number {
    const business = (this.level / USER_LEVELS) | 0;
    const bandStart = business * USER_LEVELS;
    let count = 0;
    for (let level = bandStart; level <= this.level; level++) count += window.histogram[level]!;
    const exposure = (this.level - bandStart + 1) * durationMs;
    const expected = business === this.bandBusiness ? (this.bandArrivals * exposure) / this.bandExposure : -1;
    if (expected < 0 || Math.abs(count - expected) > BAND_CHANGE_SIGMAS * Math.sqrt(Math.max(1, expected))) {
      this.bandBusiness = business;
      this.bandArrivals = count;
      this.bandExposure = exposure;
      return count;
    }
    this.bandArrivals = BAND_MEMORY * this.bandArrivals + count;
    this.bandExposure = BAND_MEMORY * this.bandExposure + exposure;
    return (this.bandArrivals * exposure) / this.bandExposure;
  }

  admit(level: number): boolean {
    return level <= this.level;
  }

  dequeue(): boolean {
    return true;
  }

  onWindow(window: AdmissionWindow): void {
    const o = this.options;
    if (window.arrived > 0) this.emptyWindows = 0;
    const durationMs = Math.max(1, window.durationMs);
    const band = this.bandDensity(window, durationMs);
    if (window.utilization >= SATURATED_LOOP) this.loopBound = window.loopUtilization >= SATURATED_LOOP;
    const delayMs = o.detection === 'queuing' ? this.queuingDelay(window) : window.avgResponseMs;
    const thresholdMs = o.detection === 'queuing' ? o.queuingThresholdMs : o.responseThresholdMs;
    this.overloaded = delayMs > thresholdMs;
    const afterCut = this.cutDelayMs;
    this.cutDelayMs = -1;
    const rate = window.admitted / durationMs;
    const recentRate = this.admittedRate;
    this.admittedRate = recentRate < 0 ? rate : (recentRate + rate) / 2;
    if (this.overloaded) {
      this.calmWindows = 0;
      // What the handlers actually ran (requests dropped at dequeue left the queue at no cost); of
      // a handler that awaits a downstream call and then computes, what it finished: its start is
      // cheap, and what bounds it is its work after the await, which waits for the loop
      // (loop-turn.ts, resumeQueue). Streams are not counted as answered, so without answers the
      // starts stand.
      const started = window.started - window.dropped;
      const ran = window.ran > 0 ? Math.min(started, window.ran) : started;
      // The backlog beyond what the threshold allows: (average queuing - threshold) × service rate.
      const excess = o.detection === 'queuing' ? ((delayMs - o.queuingThresholdMs) / durationMs) * ran : 0;
      // Draining: the queue (drops included) shrinks by at least that backlog per window, so the
      // long queuing time is an earlier window's backlog that is going away: hold the level.
      if (excess > 0 && window.started - window.admitted >= excess) return;
      // A cut acts a window late: callers learn the new level from the answers of the window
      // after it, and the backlog admitted before it still has to drain. Unless the queue grew,
      // the window right after a cut holds: cutting again for the same queue sank the level
      // twice as far as the overload asked (cpu-spike at 2x swung between 35 % and 64 % of the mix).
      // Grew in time and in length: what waited through the cut's window starts in this one,
      // later than anything before, while fewer arrive than leave (at a step to 1.4x, a second
      // cut for that wait took the level from 75 % of the mix to 50 %). In length by more than
      // chance, on a loop-bound worker: 41 left where 44 arrived cut a step to 1.4x a second time,
      // to 53 % of the mix.
      if (
        afterCut >= 0 &&
        (delayMs <= afterCut || window.admitted <= ran || (this.loopBound && byChance(window.admitted, ran)))
      )
        return;
      const served = ran > 0 && ran < window.admitted ? ran : window.admitted;
      // What left the queue is what the worker showed it can serve at this queuing time.
      this.sampleCapacity(Math.max(served, ran) / durationMs);
      // A standing queue (arrivals matching what is served) drains slowly at alpha a window:
      // admit less by a share of the backlog as well, but at most a quarter of the load more (a
      // deeper cut at a 10x step fell into the most important business priority). All of it from
      // the averaged capacity, not from this window's count: that is off by ±15 % by chance, and
      // the first window of a step, idle at its start, counts too few (cpu-spike, a step to 1.4x:
      // 39 served where the worker serves 47).
      const usual = this.capacity * durationMs;
      const keep = (1 - o.alpha) * Math.max(MIN_KEEP * usual, usual - excess * DRAIN_SHARE);
      const level = lowered(
        window.histogram,
        keep * noiseCorrection(window.admitted, recentRate * durationMs),
        this.level,
        band,
        this.seenBusiness,
      );
      if (level < this.level) {
        this.level = level;
        this.cutDelayMs = delayMs;
        this.admittedRate = -1;
      }
    } else if (window.arrived === 0 && window.utilization < TARGET_UTILIZATION && ++this.emptyWindows >= IDLE_WINDOWS) {
      // Nothing arrived for a while (callers that filter still send a probe every 100 ms) and the
      // worker has room: there is no one to protect.
      this.level = ADMIT_ALL;
      this.calmWindows = 0;
    } else if (this.level < ADMIT_ALL && (afterCut >= 0 || window.loopUtilization >= SATURATED_LOOP)) {
      // No room to raise into, or no measure of it yet:
      // - right after a cut, the window is the callers learning the new level and the queue
      //   draining: light and idle for a moment, it passed for room (a raise of a quarter);
      // - the loop saturated: the worker serves at capacity, and more would only queue. Raising
      //   by beta each window until the threshold was crossed overshot by a tenth of the load,
      //   and the cut that followed swung the level by as much again (cpu-spike, at 1.4x); with
      //   a queue of up to 5 ms still allowed to raise, it crept up by beta a window from 71 % to
      //   77 % of the mix before the cut. Only the loop's: a slot-bound worker keeps probing by
      //   beta, which served its M^x tasks better (overload, x = 1). What it serves there renews
      //   the ceiling.
      this.calmWindows = 0;
      if (afterCut < 0 && this.servesAtCeiling(window))
        this.sampleCapacity(window.ran / durationMs / window.utilization);
    } else if (this.level < ADMIT_ALL) {
      if (this.servesAtCeiling(window)) {
        // Calm but saturated (its slots): the worker serves at capacity, which renews the ceiling.
        this.sampleCapacity(window.ran / durationMs / window.utilization);
      } else if (
        this.ceiling < Infinity &&
        (rate > (1 + o.alpha) * this.ceiling || ++this.sinceCeiling > CEILING_WINDOWS)
      ) {
        this.ceiling = Infinity;
        this.capacity = -1;
        this.calmWindows = 0;
      }
      // What the raise goes by: the load admitted lately, not this window's count, which is off
      // by ±15 % by chance (a light window passed for room, and a raise of a third of the load
      // followed it; cpu-spike, at 1.4x).
      const usualRate = byChance(window.admitted, recentRate * durationMs) ? this.admittedRate : rate;
      const threshold = (1 - o.alpha) * this.ceiling;
      if (this.loopBound && usualRate >= threshold) {
        // A dead band: the worker already gets what it serves, less alpha. Probing by beta from
        // here crept past its capacity, and each overshoot cost a cut of alpha and more (the
        // level swung by ten points at 1.4x). A capacity that grew shows as room (a lower
        // utilisation: the ceiling expires) or as a calm window past the ceiling (it is lifted).
        // A loop-bound worker only (see loopBound).
        this.calmWindows = 0;
        return;
      }
      this.calmWindows++;
      let fraction = Math.min(MAX_RAISE_FRACTION, o.beta * 2 ** (this.calmWindows - 1));
      if (usualRate * (1 + fraction) > threshold) fraction = Math.max(o.beta, threshold / usualRate - 1);
      // Far below the load the worker served when last overloaded (after a deep cut, or once a
      // spike ends): close half the gap a window, instead of crawling back from beta while
      // capacity sits idle. Never past what it served, however far below it the rate is.
      else if (usualRate > 0) fraction = Math.max(fraction, (((1 - o.alpha) * this.served) / usualRate - 1) / 2);
      // The worker's own utilisation says how much room it has: an idle worker admits a lot more;
      // a busy one only beta more (the doubling and the climb back overshoot near capacity, and
      // each overshoot costs a cut: the level swings).
      if (window.utilization < HEADROOM_UTILIZATION) {
        let grow = Math.min(MAX_HEADROOM_GROWTH, TARGET_UTILIZATION / Math.max(window.utilization, 0.01)) - 1;
        // Not past the load that last overloaded the worker while that ceiling holds: right after
        // a cut the queue drains and the worker looks idle for a window or two.
        if (this.ceiling < Infinity && usualRate > 0)
          grow = Math.min(grow, Math.max(o.beta, threshold / usualRate - 1));
        fraction = Math.max(fraction, grow);
      } else if (window.utilization >= TARGET_UTILIZATION) {
        fraction = o.beta;
      }
      // Over levels where nothing arrives, the bounded step doubles too: crossing empty levels admits nothing new.
      const maxStep = o.maxRaiseLevels * 2 ** Math.min(this.calmWindows - 1, 6);
      this.level = raised(
        window.histogram,
        this.level,
        band,
        window.admitted,
        fraction * usualRate * durationMs,
        o.maxRaiseLevels,
        maxStep,
        this.seenBusiness,
        !o.advertise,
      );
    }
  }
}

/**
 * Whether a window's count departs from the average count `expected` (0 or less: none) by no
 * more than chance: two standard deviations of a Poisson count. A window of a few dozen
 * arrivals counts them to ±15 %; beyond that, the load really changed (a step), and the window
 * is taken as it is.
 */
function byChance(count: number, expected: number): boolean {
  return expected > 0 && Math.abs(count - expected) <= 2 * Math.sqrt(expected);
}

/**
 * How much heavier than usual a window's `admitted` count is, when by no more than chance: the
 * cut, which keeps a count of this window's arrivals, would shed the excess of a heavy one as if
 * it were load (at 2x, a cut fell from half of the mix to a third in one window).
 */
function noiseCorrection(admitted: number, expected: number): number {
  return admitted > expected && byChance(admitted, expected) ? admitted / expected : 1;
}

/**
 * The highest level whose cumulative arrivals are at most `target` (never below 0). `band`: the
 * arrivals expected at the current business priority's user levels up to `current` (its
 * density). Marks in `seen` the business priorities that had arrivals on the way.
 */
function lowered(histogram: Uint32Array, target: number, current: number, band: number, seen: Uint8Array): number {
  let cumulative = 0;
  let lowest = -1;
  for (let level = 0; level <= current; level++) {
    const count = histogram[level]!;
    if (count === 0) continue;
    seen[(level / USER_LEVELS) | 0] = 1;
    cumulative += count;
    if (cumulative > target && lowest === -1) lowest = level > 0 ? level - 1 : 0;
  }
  if (lowest === -1) return current;
  // A cut that stays within the current business priority goes by the density of its user
  // levels up to the level (a uniform hash), as a raise does: its few arrivals a window lie at
  // random levels, and the walk alone cut twice as deep as asked when the top ones were empty.
  const bandStart = ((current / USER_LEVELS) | 0) * USER_LEVELS;
  const excess = cumulative - target;
  if (excess >= band) return lowest;
  return Math.max(bandStart, current - Math.ceil((excess * (current - bandStart + 1)) / band));
}

/**
 * The lowest level whose cumulative arrivals reach `admitted + extra`, extrapolated when
 * unseen (always, when callers filter: `seesAbove` false) from `band`, the arrivals expected at
 * the current business priority's user levels up to `current`. Marks in `seen` the business
 * priorities that had arrivals.
 */
function raised(
  histogram: Uint32Array,
  current: number,
  band: number,
  admitted: number,
  extra: number,
  maxStep: number,
  emptyStep: number,
  seen: Uint8Array,
  seesAbove: boolean,
): number {
  const target = admitted + extra;
  let cumulative = 0;
  let highestSeen = current;
  let reached = -1;
  for (let level = 0; level <= ADMIT_ALL; level++) {
    const count = histogram[level]!;
    if (count === 0) continue;
    seen[(level / USER_LEVELS) | 0] = 1;
    // When callers filter, what arrives above the level is only what they sent before they
    // learned it (mostly in the window after a cut): a sample, which would make a raise look
    // cheap. The load above is then extrapolated instead (below).
    if (level > current && !seesAbove) continue;
    cumulative += count;
    if (level > highestSeen) highestSeen = level;
    if (reached === -1 && level > current && cumulative >= target) reached = level;
  }
  if (reached !== -1) return reached;
  // Blind: callers filter what lies above the level. Extrapolate from the density of arrivals at
  // the user levels of the current business priority up to the level (user priorities are a
  // uniform hash within one business priority; another business priority may carry any load).
  const business = (current / USER_LEVELS) | 0;
  const bandStart = business * USER_LEVELS;
  if (band > 0 || seen[business] === 1) {
    // A business priority that has carried load but sent nothing to these levels in this window
    // counts as one arrival: an upper estimate of its density, so the step stays cautious.
    const missing = target - cumulative;
    const step = Math.min(maxStep, Math.max(1, Math.ceil((missing * (current - bandStart + 1)) / Math.max(1, band))));
    return Math.min(ADMIT_ALL, highestSeen + step);
  }
  // Empty levels: crossing them admits nothing, so go straight to the first user level of the next
  // business priority that carried load, where one window measures its density before more of it
  // is admitted (admitting all of it at once floods the worker when it carries most of the
  // traffic). None known above: a step that doubles per calm window.
  for (let next = business + 1; next < BUSINESS_LEVELS; next++) {
    if (seen[next] === 1) return next * USER_LEVELS;
  }
  return Math.min(ADMIT_ALL, highestSeen + emptyStep);
}
