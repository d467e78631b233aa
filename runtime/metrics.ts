import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  ADMISSION_WINDOW_CHANNEL,
  Reason,
  RpcError,
  type AdmissionMetrics,
  type Channel,
  type ChannelStats,
  type RejectReason,
  type MethodDescriptor,
  type ResolverStats,
  type Server,
} from 'corpc';
import { businessOf, userOf, type HandlerObserver } from 'corpc/internal';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CellCounter, CellHistogram } from './metric-cells.ts';
import {
  LATENCY_BUCKETS,
  callerKey,
  type CallerWindow,
  type LatencyBuckets,
  type PriorityWindow,
  type UnitWindow,
  type WorkerSnapshot,
} from './dashboard.ts';

/**
 * A worker's metrics (prom-client). Every series carries a `worker` label; the supervisor
 * aggregates the workers' registries for /metrics. Names:
 *
 * - corpc_requests_total{unit,method,code}            calls handled, by status name
 * - corpc_request_duration_seconds{unit,method}       handler time (histogram)
 * - corpc_queuing_seconds{unit}                        arrival → handler start, event-loop delay included (histogram)
 * - corpc_admission_level{unit}, corpc_admission_business_level{unit}, corpc_admission_user_level{unit}
 *                                                      the level the unit admits (B*128+U, and B, U)
 * - corpc_admission_advertised_level{unit}            the level its callers are told (all in dry-run and dagor-local)
 * - corpc_admission_rejections_total{unit,reason}     requests refused before a handler ran
 * - corpc_admission_dry_run_rejections_total{unit,reason}  what a dry-run controller would have refused
 * - corpc_admission_arrivals_total{unit,method}, corpc_admission_method_rejections_total{unit,method}
 * - corpc_admission_queuing_avg_seconds / _p99_seconds{unit}, corpc_admission_event_loop_delay_seconds{unit},
 *   corpc_admission_overloaded{unit}                  the controller's last window
 * - corpc_server_in_flight / _queued / _connections{unit}
 * - corpc_http_requests_total{route,status,business}  and corpc_http_request_duration_seconds{route}
 * - corpc_resolver_cache_hits_total, corpc_resolver_stale_served_total
 * - corpc_client_calls_total{callee,side,code,reason}  calls this worker's channels made, by outcome: side "server"
 *                                                      (the callee answered, code OK included) or "client" (decided here:
 *                                                      local_admission, client_backlog, deadline, unavailable…)
 * - corpc_client_retries_total{callee}, corpc_client_retries_denied_total{callee}  retries sent / refused by the retry budget
 * - corpc_client_retry_budget_tokens{callee,business}  retry tokens left (a business priority appears once it spent one)
 * - corpc_client_admission_level{callee}, _business_level, _user_level  the level the callee holds this worker to
 * - nodejs_eventloop_lag_* and the other prom-client default metrics (event-loop delay)
 *
 * The admission figures come from the controller itself: every closed window is published on
 * the `corpc:admission:window` diagnostics channel, and a window belongs to the unit whose
 * `server.admission.metrics()` is that very object (it is set just before it is published).
 * Windows close every second or every 2,000 arrivals, so reading `metrics()` on a timer would
 * miss windows under load; the channel sees each one once.
 */

/** Reasons the controller counts that it enforces even in dry-run mode (memory safety, not policy). */
const ALWAYS_ENFORCED: ReadonlySet<RejectReason> = new Set([Reason.QueueFull]);

/** The resolver counters exported (the shared resolver's `stats()`). */
export type ResolverReport = Pick<ResolverStats, 'cacheHits' | 'staleServed'>;

interface UnitState {
  server: Server;
  window: UnitWindow;
}

/** One channel of this worker, and its totals at the last dashboard snapshot (the window is the difference). */
interface ChannelState {
  channel: Channel;
  last: ChannelStats | null;
}

export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly units = new Map<string, UnitState>();
  private readonly channels = new Map<string, ChannelState>();
  /** Handler-time buckets (cumulative, all methods) per unit at the last snapshot: the window's p50/p99 come from the difference. */
  private readonly lastLatency = new Map<string, number[]>();
  private readonly priorities = new Map<number, PriorityWindow>();
  private readonly requests: CellCounter<'unit' | 'method' | 'code'>;
  private readonly duration: CellHistogram<'unit' | 'method'>;
  private readonly queuing: CellHistogram<'unit'>;
  private readonly rejections: Counter<'unit' | 'reason'>;
  private readonly dryRunRejections: Counter<'unit' | 'reason'>;
  private readonly arrivals: Counter<'unit' | 'method'>;
  private readonly methodRejections: Counter<'unit' | 'method'>;
  private readonly windowGauges: Record<'avgQueuing' | 'p99Queuing' | 'loopDelay' | 'overloaded', Gauge<'unit'>>;
  private readonly onWindow = (message: unknown): void => this.recordWindow(message as AdmissionMetrics);
  private readonly httpRequests: Counter<'route' | 'status' | 'business'>;
  private readonly httpDuration: Histogram<'route'>;
  private resolverSource: (() => ResolverReport) | null = null;
  private windowStart = Date.now();

  constructor(readonly worker: number) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ worker: String(worker) });
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    // The series written per call are cells (metric-cells.ts): a few additions per request.
    this.requests = new CellCounter(
      'corpc_requests_total',
      'Calls handled, by unit, method and status',
      ['unit', 'method', 'code'],
      this.registry,
    );
    this.duration = new CellHistogram(
      'corpc_request_duration_seconds',
      'Handler time',
      ['unit', 'method'],
      LATENCY_BUCKETS,
      this.registry,
    );
    this.queuing = new CellHistogram(
      'corpc_queuing_seconds',
      'Queuing time: from arrival in the worker to the handler start, plus the event-loop delay the admission controller measured',
      ['unit'],
      LATENCY_BUCKETS,
      this.registry,
    );
    const counter = <L extends string>(name: string, help: string, labelNames: L[]): Counter<L> =>
      new Counter({ name, help, labelNames, registers });
    this.rejections = counter(
      'corpc_admission_rejections_total',
      'Requests refused before a handler ran, by reason (admission_level, queue_full, queue_delay, expired)',
      ['unit', 'reason'],
    );
    this.dryRunRejections = counter(
      'corpc_admission_dry_run_rejections_total',
      'Requests a dry-run admission controller would have refused (and admitted), by reason',
      ['unit', 'reason'],
    );
    this.arrivals = counter(
      'corpc_admission_arrivals_total',
      'Requests that reached the admission controller, by method',
      ['unit', 'method'],
    );
    this.methodRejections = counter(
      'corpc_admission_method_rejections_total',
      'Requests refused (or, in dry-run mode, that would have been) before a handler ran, by method',
      ['unit', 'method'],
    );
    const windowGauge = (name: string, help: string): Gauge<'unit'> =>
      new Gauge({ name, help, labelNames: ['unit'], registers });
    this.windowGauges = {
      avgQueuing: windowGauge(
        'corpc_admission_queuing_avg_seconds',
        'Average queuing time of the last admission window (event-loop delay included)',
      ),
      p99Queuing: windowGauge(
        'corpc_admission_queuing_p99_seconds',
        '99th percentile queuing time of the last admission window',
      ),
      loopDelay: windowGauge(
        'corpc_admission_event_loop_delay_seconds',
        'Expected wait of a request arriving while the event loop was busy, last admission window',
      ),
      overloaded: windowGauge('corpc_admission_overloaded', '1 when the last admission window was overloaded'),
    };
    this.httpRequests = new Counter({
      name: 'corpc_http_requests_total',
      help: 'HTTP entry requests by route, HTTP status and business priority',
      labelNames: ['route', 'status', 'business'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'corpc_http_request_duration_seconds',
      help: 'HTTP entry request time',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const units = this.units;
    const serverGauge = (name: string, help: string, read: (server: Server) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['unit'],
        registers,
        collect() {
          for (const [unit, state] of units) this.set({ unit }, read(state.server));
        },
      });
    };
    serverGauge(
      'corpc_admission_level',
      'Admission level A (compound B*128+U): requests with a level above it are refused',
      (s) => s.admission.policy.level,
    );
    serverGauge('corpc_admission_business_level', 'Business priority part B of the admission level', (s) =>
      businessOf(s.admission.policy.level),
    );
    serverGauge('corpc_admission_user_level', 'User priority part U of the admission level', (s) =>
      userOf(s.admission.policy.level),
    );
    serverGauge(
      'corpc_admission_advertised_level',
      'Admission level sent to callers with every answer (they shed above it)',
      (s) => s.admissionLevel,
    );
    serverGauge('corpc_server_in_flight', 'Requests read and not yet answered', (s) => s.stats().inFlight);
    serverGauge('corpc_server_queued', 'Requests waiting for a handler slot', (s) => s.stats().queued);
    serverGauge('corpc_server_connections', 'Open client connections', (s) => s.stats().connections);
    const resolver = (): ResolverReport | null => this.resolverSource?.() ?? null;
    // Counters read from the resolver's own running totals at each scrape.
    const resolverCounter = (name: string, help: string, read: (report: ResolverReport) => number): void => {
      new Counter({
        name,
        help,
        registers,
        collect() {
          const report = resolver();
          this.reset();
          if (report !== null) this.inc(read(report));
        },
      });
    };
    resolverCounter('corpc_resolver_cache_hits_total', 'Resolver lookups answered from the cache', (r) => r.cacheHits);
    resolverCounter(
      'corpc_resolver_stale_served_total',
      'Resolver answers served stale because DNS failed',
      (r) => r.staleServed,
    );
    this.registerChannelMetrics(registers);
    subscribe(ADMISSION_WINDOW_CHANNEL, this.onWindow);
  }

  /**
   * Caller-side series, read from every channel's running totals at each scrape: the call path
   * keeps plain counters (channel-stats.ts), nothing here runs per call.
   */
  private registerChannelMetrics(registers: Registry[]): void {
    const channels = this.channels;
    const stats = (): [string, ChannelStats][] =>
      [...channels].map(([callee, state]) => [callee, state.channel.stats()]);
    type Read<L extends string> = (set: (labels: Record<L, string>, value: number) => void) => void;
    // Series rebuilt from the channels' totals at each scrape: a counter is set with inc() after a reset.
    const series = <L extends string>(
      kind: 'counter' | 'gauge',
      name: string,
      help: string,
      labelNames: L[],
      read: Read<L>,
    ): void => {
      const options = { name, help, labelNames, registers };
      if (kind === 'counter') {
        new Counter({
          ...options,
          collect() {
            this.reset();
            read((labels, value) => this.inc(labels as never, value));
          },
        });
      } else {
        new Gauge({
          ...options,
          collect() {
            this.reset();
            read((labels, value) => this.set(labels as never, value));
          },
        });
      }
    };
    const counter = <L extends string>(name: string, help: string, labelNames: L[], read: Read<L>): void =>
      series('counter', name, help, labelNames, read);
    const gauge = <L extends string>(name: string, help: string, labelNames: L[], read: Read<L>): void =>
      series('gauge', name, help, labelNames, read);
    counter(
      'corpc_client_calls_total',
      'Calls made by this worker, by callee and outcome: side server (answered) or client (decided by the caller), status, reason',
      ['callee', 'side', 'code', 'reason'],
      (set) => {
        for (const [callee, s] of stats()) {
          set({ callee, side: 'server', code: 'OK', reason: '' }, s.ok);
          for (const f of s.failed) set({ callee, side: f.side, code: f.code, reason: f.reason }, f.count);
        }
      },
    );
    counter('corpc_client_retries_total', 'Retries sent (attempts after the first)', ['callee'], (set) => {
      for (const [callee, s] of stats()) set({ callee }, s.retries);
    });
    counter('corpc_client_retries_denied_total', 'Retries the retry budget refused', ['callee'], (set) => {
      for (const [callee, s] of stats()) set({ callee }, s.retriesDenied);
    });
    // Only the business priorities that ever spent a token: 64 series per callee of a full bucket say nothing.
    const spent = new Map<string, Set<number>>();
    gauge(
      'corpc_client_retry_budget_tokens',
      'Retry tokens left per business priority (shown once a priority spent one)',
      ['callee', 'business'],
      (set) => {
        for (const [callee, s] of stats()) {
          let seen = spent.get(callee);
          if (seen === undefined) spent.set(callee, (seen = new Set()));
          s.retryTokens.forEach((tokens, business) => {
            if (tokens < s.maxRetryTokens) seen.add(business);
          });
          for (const business of seen) set({ callee, business: String(business) }, s.retryTokens[business]!);
        }
      },
    );
    const level = (name: string, help: string, read: (level: number) => number): void =>
      gauge(name, help, ['callee'], (set) => {
        for (const [callee, s] of stats()) set({ callee }, read(s.admissionLevel));
      });
    level(
      'corpc_client_admission_level',
      'The most restrictive admission level (B*128+U) the callee reported to this worker and that is still in force',
      (l) => l,
    );
    level(
      'corpc_client_admission_business_level',
      'Business priority part B of the level the callee holds this worker to',
      businessOf,
    );
    level(
      'corpc_client_admission_user_level',
      'User priority part U of the level the callee holds this worker to',
      userOf,
    );
  }

  /** Stops listening to the admission controllers. */
  close(): void {
    unsubscribe(ADMISSION_WINDOW_CHANNEL, this.onWindow);
  }

  /** Watches a unit's server (admission controller, queue, connections). */
  addUnit(unit: string, server: Server): void {
    this.units.set(unit, { server, window: emptyWindow() });
  }

  /** Watches this worker's channel to a unit (its calls count as that unit's callers). */
  addChannel(callee: string, channel: Channel): void {
    this.channels.set(callee, { channel, last: null });
  }

  /** The resolver's counters, read at each scrape (the worker passes its shared resolver's `stats()`). */
  setResolverSource(source: () => ResolverReport): void {
    this.resolverSource = source;
  }

  /** One closed admission window of one of this worker's servers (from the diagnostics channel). */
  private recordWindow(window: AdmissionMetrics): void {
    let unit: string | undefined;
    let state: UnitState | undefined;
    for (const [name, candidate] of this.units) {
      if (candidate.server.admission.metrics() === window) {
        unit = name;
        state = candidate;
        break;
      }
    }
    if (unit === undefined || state === undefined) return; // a server that is not one of our units
    let enforced = 0;
    for (const [reason, count] of Object.entries(window.rejected) as [RejectReason, number][]) {
      if (count === 0) continue;
      if (!window.dryRun || ALWAYS_ENFORCED.has(reason)) {
        this.rejections.inc({ unit, reason }, count);
        enforced += count;
      } else {
        this.dryRunRejections.inc({ unit, reason }, count);
      }
    }
    for (const [method, counts] of Object.entries(window.methods)) {
      if (counts.arrived > 0) this.arrivals.inc({ unit, method }, counts.arrived);
      if (counts.rejected > 0) this.methodRejections.inc({ unit, method }, counts.rejected);
    }
    const gauges = this.windowGauges;
    gauges.avgQueuing.set({ unit }, window.avgQueuingMs / 1000);
    gauges.p99Queuing.set({ unit }, window.p99QueuingMs / 1000);
    gauges.loopDelay.set({ unit }, window.loopDelayMs / 1000);
    gauges.overloaded.set({ unit }, window.overloaded ? 1 : 0);
    const dashboard = state.window;
    for (const [reason, count] of Object.entries(window.rejected) as [RejectReason, number][]) {
      if (count > 0 && (!window.dryRun || ALWAYS_ENFORCED.has(reason)))
        dashboard.rejectedBy[reason] = (dashboard.rejectedBy[reason] ?? 0) + count;
    }
    dashboard.loopDelayMs = window.loopDelayMs;
    dashboard.rejected += enforced;
    dashboard.started += window.started;
    dashboard.queuingMsSum += window.avgQueuingMs * window.started;
    dashboard.overloaded = window.overloaded;
  }

  /**
   * What a unit's server tells of each run of a handler (`addService(…, { observe })`): each call
   * counted by outcome, its handler timed and its queuing time recorded, from the server's own
   * path. (A wrapper around each handler did the same at the cost of an extra async function per
   * call: its promise, its microtask and their garbage were a sixth of the worker's CPU per Echo.)
   */
  observer(unit: string): (method: MethodDescriptor) => HandlerObserver {
    const state = this.units.get(unit);
    const admission = state?.server.admission;
    const queuing = this.queuing.cell({ unit });
    const requests = this.requests;
    return (descriptor) => {
      const method = descriptor.path;
      const ok = requests.cell({ unit, method, code: 'OK' });
      const duration = this.duration.cell({ unit, method });
      return {
        started(ctx) {
          // What the controller counts as this request's queuing time: the wait in the process
          // plus the event-loop delay it measured over its last window.
          queuing.observe((ctx.queuingMs + (admission?.metrics()?.loopDelayMs ?? 0)) / 1000);
        },
        succeeded(runMs) {
          duration.observe(runMs / 1000);
          ok.value++;
          // The window now, not at the start: a snapshot in between sent that one already.
          if (state !== undefined) state.window.ok++;
        },
        failed(runMs, error) {
          duration.observe(runMs / 1000);
          requests.cell({ unit, method, code: RpcError.from(error).code }).value++;
          if (state !== undefined) state.window.failed++;
        },
      };
    };
  }

  /** Records one HTTP entry request. */
  recordHttp(route: string, status: number, business: number, seconds: number, actions: readonly string[]): void {
    this.httpRequests.inc({ route, status: String(status), business: String(business) });
    this.httpDuration.observe({ route }, seconds);
    let window = this.priorities.get(business);
    if (window === undefined) this.priorities.set(business, (window = { requests: 0, ok: 0, actions: [...actions] }));
    window.requests++;
    if (status < 400) window.ok++;
  }

  /** The dashboard window since the last snapshot; starts a new one. */
  async snapshot(): Promise<WorkerSnapshot> {
    const nowMs = Date.now();
    const latency = this.latencyWindows();
    const units: Record<string, UnitWindow> = {};
    for (const [name, state] of this.units) {
      const stats = state.server.stats();
      units[name] = {
        ...state.window,
        admissionLevel: state.server.admission.policy.level,
        inFlight: stats.inFlight,
        queued: stats.queued,
        connections: stats.connections,
        latency: latency.get(name) ?? null,
        callers: this.callerWindow(name),
      };
      state.window = emptyWindow();
    }
    const priorities: Record<string, PriorityWindow> = {};
    for (const [business, window] of this.priorities) {
      priorities[business] = { ...window };
      window.requests = 0;
      window.ok = 0;
    }
    const snapshot = { worker: this.worker, windowMs: Math.max(1, nowMs - this.windowStart), units, priorities };
    this.windowStart = nowMs;
    return snapshot;
  }

  /** What this worker's channel to `callee` saw since the last snapshot (null when it has none). */
  private callerWindow(callee: string): CallerWindow | null {
    const state = this.channels.get(callee);
    if (state === undefined) return null;
    const now = state.channel.stats();
    const last = state.last;
    state.last = now;
    const before = new Map(last?.failed.map((f) => [callerKey(f.side, f.code, f.reason), f.count]));
    const failed: Record<string, number> = {};
    for (const f of now.failed) {
      const key = callerKey(f.side, f.code, f.reason);
      const count = f.count - (before.get(key) ?? 0);
      if (count > 0) failed[key] = count;
    }
    let retryTokensMin = now.maxRetryTokens;
    for (const tokens of now.retryTokens) if (tokens < retryTokensMin) retryTokensMin = tokens;
    return {
      ok: now.ok - (last?.ok ?? 0),
      failed,
      retries: now.retries - (last?.retries ?? 0),
      retriesDenied: now.retriesDenied - (last?.retriesDenied ?? 0),
      admissionLevel: now.admissionLevel,
      retryTokensMin,
      maxRetryTokens: now.maxRetryTokens,
    };
  }

  /** Each unit's handler times over the window (all methods): the histogram's buckets now, less at the last snapshot. */
  private latencyWindows(): Map<string, LatencyBuckets> {
    const cumulative = new Map<string, number[]>();
    for (const cell of this.duration.observed()) {
      const unit = cell.labels.unit!;
      let counts = cumulative.get(unit);
      if (counts === undefined) cumulative.set(unit, (counts = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0)));
      // Buckets by bound (cumulative), and the total last (it stands for +Inf).
      let below = 0;
      for (let i = 0; i < LATENCY_BUCKETS.length; i++) counts[i]! += below += cell.counts[i]!;
      counts[LATENCY_BUCKETS.length]! += cell.count;
    }
    const windows = new Map<string, LatencyBuckets>();
    for (const [unit, counts] of cumulative) {
      const last = this.lastLatency.get(unit);
      this.lastLatency.set(unit, counts);
      const delta = counts.map((count, i) => count - (last?.[i] ?? 0));
      if (delta[LATENCY_BUCKETS.length]! > 0) windows.set(unit, delta);
    }
    return windows;
  }
}

function emptyWindow(): UnitWindow {
  return {
    admissionLevel: 0,
    inFlight: 0,
    queued: 0,
    connections: 0,
    ok: 0,
    failed: 0,
    rejected: 0,
    rejectedBy: {},
    started: 0,
    queuingMsSum: 0,
    loopDelayMs: 0,
    overloaded: false,
    latency: null,
    callers: null,
  };
}
