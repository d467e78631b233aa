import { ADMIT_ALL, businessOf, userOf } from 'corpc/internal';

/**
 * The live dashboard's data. Each worker sends the supervisor, every second, what it counted in
 * that second (WorkerSnapshot: plain counts, no rates); once a second the supervisor turns the
 * snapshots that arrived into one HistoryPoint (rates per second, per unit, for every worker and
 * for all of them) and keeps the last HISTORY_POINTS in a ring. `/dashboard.json` is the newest
 * point; `/dashboard.json?since=SEQ` adds the points after SEQ (0: all of them), which the page
 * polls so it never reloads the whole history.
 */

/** Handler-time histogram bounds, in seconds (the Prometheus histograms use the same). */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Seconds of history kept (one point a second). */
export const HISTORY_POINTS = 300;

/** Cumulative counts per LATENCY_BUCKETS bound, then the total (+Inf). */
export type LatencyBuckets = number[];

/**
 * A quantile (in seconds) from cumulative bucket counts, interpolated linearly inside the bucket
 * as Prometheus's histogram_quantile does, so the page and a Grafana panel agree.
 */
export function bucketQuantile(cumulative: readonly number[], q: number): number {
  const rank = q * cumulative[cumulative.length - 1]!;
  let lower = 0;
  let below = 0;
  for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
    const count = cumulative[i]!;
    if (count >= rank && count > below)
      return lower + ((LATENCY_BUCKETS[i]! - lower) * (rank - below)) / (count - below);
    lower = LATENCY_BUCKETS[i]!;
    below = count;
  }
  return lower; // above the last bound: Prometheus answers the last bound too
}

/** `client RESOURCE_EXHAUSTED local_admission`: one outcome of callers' calls. */
export function callerKey(side: string, code: string, reason: string): string {
  return `${side} ${code} ${reason}`.trimEnd();
}

/** What one worker's channel to a unit saw in the window: the unit's callers in that worker. */
export interface CallerWindow {
  ok: number;
  /** Failed calls by callerKey. */
  failed: Record<string, number>;
  retries: number;
  retriesDenied: number;
  /** The level the unit holds this worker's calls to (B*128+U), at the end of the window. */
  admissionLevel: number;
  /** The fewest retry tokens any business priority has left. */
  retryTokensMin: number;
  maxRetryTokens: number;
}

/** One unit in one worker over one window (counts, and states at its end). */
export interface UnitWindow {
  /** The level the unit's admission controller admits (B*128+U). */
  admissionLevel: number;
  inFlight: number;
  queued: number;
  connections: number;
  /** Handler calls that ended in the window, with success or with an error. */
  ok: number;
  failed: number;
  /** From the admission controller's windows closed in this one: requests refused before a handler ran, in all and by reason… */
  rejected: number;
  rejectedBy: Record<string, number>;
  /** …requests that left the queue, and the sum of their queuing times (event-loop delay included). */
  started: number;
  queuingMsSum: number;
  /** The event-loop delay of the controller's last window. */
  loopDelayMs: number;
  /** The last admission window was overloaded. */
  overloaded: boolean;
  /** Handler times of the window (null: no call ended). */
  latency: LatencyBuckets | null;
  /** This worker's calls to the unit (null: the worker has no channel to it). */
  callers: CallerWindow | null;
}

export interface PriorityWindow {
  requests: number;
  ok: number;
  /** The entry actions with this business priority (`Gateway/Login`). */
  actions: string[];
}

export interface WorkerSnapshot {
  worker: number;
  windowMs: number;
  units: Record<string, UnitWindow>;
  /** HTTP entry outcomes by business priority. */
  priorities: Record<string, PriorityWindow>;
}

export interface Level {
  business: number;
  user: number;
  /** B*128+U; ADMIT_ALL (8191) admits everything. */
  level: number;
}

/** One unit over one second, for one worker or all of them. Rates are per second. */
export interface UnitPoint {
  /** The most restrictive worker's level. */
  admission: Level;
  overloadedWorkers: number;
  /** Handled: succeeded, and failed in the handler. */
  served: number;
  failed: number;
  /** Refused by the unit's own admission controllers, by reason. */
  rejected: Record<string, number>;
  /** Calls to the unit its callers (channels in these workers) shed before sending, by reason (local_admission, client_backlog). */
  shedByCallers: Record<string, number>;
  /** Every outcome the callers saw, by callerKey (their successes under `server OK`). */
  callerOutcomes: Record<string, number>;
  /** The level the unit holds its callers to (null: no caller in these workers). */
  callerLevel: Level | null;
  retries: number;
  retriesDenied: number;
  retryTokensMin: number | null;
  maxRetryTokens: number | null;
  queuingMs: number;
  loopDelayMs: number;
  p50Ms: number | null;
  p99Ms: number | null;
  inFlight: number;
  queued: number;
  connections: number;
  /** served / everything aimed at the unit (handled + refused by it + shed for it by callers); null when nothing was. */
  successRate: number | null;
}

/** Counts since the supervisor started, all workers (exact: summed from every snapshot, so they match /metrics once the workers' last second is in). */
export interface UnitTotals {
  /** Handled with success (corpc_requests_total{code="OK"}). */
  served: number;
  /** Handled, failed in the handler. */
  failed: number;
  /** Refused by the unit's admission controllers (corpc_admission_rejections_total). */
  rejected: number;
  /** Shed for it by callers in these workers (corpc_client_calls_total{side="client",code="RESOURCE_EXHAUSTED"}). */
  shedByCallers: number;
}

export interface PriorityPoint {
  business: number;
  actions: string[];
  /** HTTP entry requests per second of that business priority, and those that succeeded. */
  offered: number;
  served: number;
}

export interface HistoryPoint {
  seq: number;
  /** ms since the epoch. */
  time: number;
  /** unit → worker id (or "all") → point. */
  units: Record<string, Record<string, UnitPoint>>;
  priorities: PriorityPoint[];
}

export interface DashboardView {
  time: string;
  ready: boolean;
  draining: boolean;
  workers: number;
  /** Names of business priorities from the entry table (`priority.business` and the entry's own): "0" → ["Gateway/Login"]. */
  businessNames: Record<string, string[]>;
  /** The newest point's seq (0: none yet). */
  seq: number;
  /** The newest point's units, all workers, with their names and totals. */
  units: (UnitPoint & { name: string; totals: UnitTotals })[];
  priorities: PriorityPoint[];
  /** With `?since=SEQ`: the kept points after SEQ, oldest first. */
  history?: HistoryPoint[];
}

const sumInto = (target: Record<string, number>, source: Record<string, number>, scale = 1): void => {
  for (const [key, value] of Object.entries(source)) target[key] = (target[key] ?? 0) + value * scale;
};

const levelOf = (level: number): Level => ({ business: businessOf(level), user: userOf(level), level });

/** Adds one unit window (counts) into an accumulator. */
class UnitSum {
  admissionLevel = ADMIT_ALL;
  overloadedWorkers = 0;
  ok = 0;
  failed = 0;
  rejectedBy: Record<string, number> = {};
  callerOutcomes: Record<string, number> = {};
  callerLevel: number | null = null;
  retries = 0;
  retriesDenied = 0;
  retryTokensMin: number | null = null;
  maxRetryTokens: number | null = null;
  started = 0;
  queuingMsSum = 0;
  loopDelayMs = 0;
  latency: number[] | null = null;
  inFlight = 0;
  queued = 0;
  connections = 0;

  add(w: UnitWindow, last: boolean): void {
    this.ok += w.ok;
    this.failed += w.failed;
    sumInto(this.rejectedBy, w.rejectedBy);
    this.started += w.started;
    this.queuingMsSum += w.queuingMsSum;
    if (w.latency !== null)
      this.latency = this.latency === null ? [...w.latency] : this.latency.map((n, i) => n + w.latency![i]!);
    const c = w.callers;
    if (c !== null) {
      if (c.ok > 0) this.callerOutcomes['server OK'] = (this.callerOutcomes['server OK'] ?? 0) + c.ok;
      sumInto(this.callerOutcomes, c.failed);
      this.retries += c.retries;
      this.retriesDenied += c.retriesDenied;
    }
    if (!last) return;
    // States: from each worker's latest window only.
    this.admissionLevel = Math.min(this.admissionLevel, w.admissionLevel);
    if (w.overloaded) this.overloadedWorkers++;
    this.loopDelayMs = Math.max(this.loopDelayMs, w.loopDelayMs);
    this.inFlight += w.inFlight;
    this.queued += w.queued;
    this.connections += w.connections;
    if (c !== null) {
      this.callerLevel = Math.min(this.callerLevel ?? ADMIT_ALL, c.admissionLevel);
      this.retryTokensMin = Math.min(this.retryTokensMin ?? Infinity, c.retryTokensMin);
      this.maxRetryTokens = c.maxRetryTokens;
    }
  }

  point(seconds: number): UnitPoint {
    const rate = (n: number): number => n / seconds;
    const rejected: Record<string, number> = {};
    sumInto(rejected, this.rejectedBy, 1 / seconds);
    const callerOutcomes: Record<string, number> = {};
    sumInto(callerOutcomes, this.callerOutcomes, 1 / seconds);
    const shedByCallers: Record<string, number> = {};
    for (const [key, value] of Object.entries(callerOutcomes)) {
      if (key.startsWith('client RESOURCE_EXHAUSTED'))
        shedByCallers[key.slice('client RESOURCE_EXHAUSTED '.length) || 'unknown'] = value;
    }
    const total = (record: Record<string, number>): number => Object.values(record).reduce((a, b) => a + b, 0);
    const aimed = rate(this.ok + this.failed) + total(rejected) + total(shedByCallers);
    return {
      admission: levelOf(this.admissionLevel),
      overloadedWorkers: this.overloadedWorkers,
      served: rate(this.ok),
      failed: rate(this.failed),
      rejected,
      shedByCallers,
      callerOutcomes,
      callerLevel: this.callerLevel === null ? null : levelOf(this.callerLevel),
      retries: rate(this.retries),
      retriesDenied: rate(this.retriesDenied),
      retryTokensMin: this.retryTokensMin,
      maxRetryTokens: this.maxRetryTokens,
      queuingMs: this.started === 0 ? 0 : this.queuingMsSum / this.started,
      loopDelayMs: this.loopDelayMs,
      p50Ms: this.latency === null ? null : 1000 * bucketQuantile(this.latency, 0.5),
      p99Ms: this.latency === null ? null : 1000 * bucketQuantile(this.latency, 0.99),
      inFlight: this.inFlight,
      queued: this.queued,
      connections: this.connections,
      successRate: aimed === 0 ? null : rate(this.ok) / aimed,
    };
  }
}

/**
 * The dashboard's memory: the last HISTORY_POINTS seconds in a fixed ring. `tick()` (once a
 * second) turns the snapshots each worker sent since the last tick into one point; a worker whose
 * snapshot is late (its event loop is busy: the overload being watched) counts with its previous
 * one, and its late snapshot goes into the next point.
 */
export class DashboardHistory {
  private readonly ring: (HistoryPoint | null)[];
  private seq = 0;
  /** Per worker: the snapshots not yet in a point, and the last one used. */
  private readonly pending = new Map<number, WorkerSnapshot[]>();
  private readonly previous = new Map<number, WorkerSnapshot[]>();
  private readonly unitTotals = new Map<string, UnitTotals>();

  constructor(readonly capacity = HISTORY_POINTS) {
    this.ring = new Array<HistoryPoint | null>(capacity).fill(null);
  }

  add(snapshot: WorkerSnapshot): void {
    let list = this.pending.get(snapshot.worker);
    if (list === undefined) this.pending.set(snapshot.worker, (list = []));
    list.push(snapshot);
    for (const [name, w] of Object.entries(snapshot.units)) {
      let totals = this.unitTotals.get(name);
      if (totals === undefined)
        this.unitTotals.set(name, (totals = { served: 0, failed: 0, rejected: 0, shedByCallers: 0 }));
      totals.served += w.ok;
      totals.failed += w.failed;
      totals.rejected += w.rejected;
      for (const [key, count] of Object.entries(w.callers?.failed ?? {}))
        if (key.startsWith('client RESOURCE_EXHAUSTED')) totals.shedByCallers += count;
    }
  }

  totals(unit: string): UnitTotals {
    return { ...(this.unitTotals.get(unit) ?? { served: 0, failed: 0, rejected: 0, shedByCallers: 0 }) };
  }

  /** A worker left: it stops counting. */
  forget(worker: number): void {
    this.pending.delete(worker);
    this.previous.delete(worker);
  }

  tick(time = Date.now()): HistoryPoint {
    for (const [worker, list] of this.pending) {
      if (list.length > 0) this.previous.set(worker, list);
      this.pending.set(worker, []);
    }
    const units = new Map<string, Map<string, UnitSum>>();
    const priorities = new Map<string, PriorityWindow>();
    const seconds = new Map<string, number>();
    const sum = (unit: string, key: string): UnitSum => {
      let byWorker = units.get(unit);
      if (byWorker === undefined) units.set(unit, (byWorker = new Map()));
      let s = byWorker.get(key);
      if (s === undefined) byWorker.set(key, (s = new UnitSum()));
      return s;
    };
    let allMs = 0;
    for (const [worker, snapshots] of this.previous) {
      const ms = snapshots.reduce((total, s) => total + s.windowMs, 0);
      seconds.set(String(worker), ms / 1000);
      allMs = Math.max(allMs, ms);
      snapshots.forEach((snapshot, i) => {
        const last = i === snapshots.length - 1;
        for (const [name, window] of Object.entries(snapshot.units)) {
          sum(name, String(worker)).add(window, last);
          sum(name, 'all').add(window, last);
        }
        for (const [business, p] of Object.entries(snapshot.priorities)) {
          const merged = priorities.get(business);
          if (merged === undefined) priorities.set(business, { ...p, actions: [...p.actions] });
          else {
            merged.requests += p.requests;
            merged.ok += p.ok;
          }
        }
      });
    }
    // "all" adds counts of windows of about the same length (each worker's second): its rate is per the longest.
    seconds.set('all', Math.max(allMs, 1) / 1000);
    const allSeconds = seconds.get('all')!;
    const point: HistoryPoint = {
      seq: ++this.seq,
      time,
      units: Object.fromEntries(
        [...units].map(([name, byWorker]) => [
          name,
          Object.fromEntries([...byWorker].map(([key, s]) => [key, s.point(seconds.get(key) ?? 1)])),
        ]),
      ),
      priorities: [...priorities]
        .map(([business, p]) => ({
          business: Number(business),
          actions: p.actions,
          offered: p.requests / allSeconds,
          served: p.ok / allSeconds,
        }))
        .sort((a, b) => a.business - b.business),
    };
    this.ring[this.seq % this.capacity] = point;
    return point;
  }

  latest(): HistoryPoint | null {
    return this.ring[this.seq % this.capacity] ?? null;
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** The kept points after `seq`, oldest first. */
  since(seq: number): HistoryPoint[] {
    const points: HistoryPoint[] = [];
    for (let s = Math.max(seq + 1, this.seq - this.capacity + 1, 1); s <= this.seq; s++)
      points.push(this.ring[s % this.capacity]!);
    return points;
  }
}

/** The view served as /dashboard.json. */
export function dashboardView(
  history: DashboardHistory,
  state: { ready: boolean; draining: boolean; workers: number; businessNames: Record<string, string[]> },
  since: number | null,
): DashboardView {
  const latest = history.latest();
  const businessNames: Record<string, string[]> = {};
  for (const [business, names] of Object.entries(state.businessNames)) businessNames[business] = [...names];
  for (const p of latest?.priorities ?? []) {
    const names = (businessNames[p.business] ??= []);
    for (const action of p.actions) if (!names.includes(action)) names.push(action);
  }
  return {
    time: new Date().toISOString(),
    ready: state.ready,
    draining: state.draining,
    workers: state.workers,
    businessNames,
    seq: history.lastSeq,
    units: Object.entries(latest?.units ?? {}).map(([name, byWorker]) => ({
      name,
      ...byWorker.all!,
      totals: history.totals(name),
    })),
    priorities: latest?.priorities ?? [],
    ...(since === null ? {} : { history: history.since(since) }),
  };
}
