import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  ADMISSION_WINDOW_CHANNEL,
  businessOf,
  userOf,
  RpcError,
  type AdmissionMetrics,
  type RejectReason,
  type RequestContext,
  type ResolverStats,
  type Server,
  type ServiceDescriptor,
} from 'corpc';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PriorityWindow, UnitWindow, WorkerSnapshot } from './dashboard.ts';

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
 * - nodejs_eventloop_lag_* and the other prom-client default metrics (event-loop delay)
 *
 * The admission figures come from the controller itself: every closed window is published on
 * the `corpc:admission:window` diagnostics channel, and a window belongs to the unit whose
 * `server.admission.metrics()` is that very object (it is set just before it is published).
 * Windows close every second or every 2,000 arrivals, so reading `metrics()` on a timer would
 * miss windows under load; the channel sees each one once.
 */

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Reasons the controller counts that it enforces even in dry-run mode (memory safety, not policy). */
const ALWAYS_ENFORCED: ReadonlySet<RejectReason> = new Set(['queue_full']);

/** The resolver counters exported (the shared resolver's `stats()`). */
export type ResolverReport = Pick<ResolverStats, 'cacheHits' | 'staleServed'>;

interface UnitState {
  server: Server;
  window: UnitWindow;
}

export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly units = new Map<string, UnitState>();
  private readonly priorities = new Map<number, PriorityWindow>();
  private readonly requests: Counter<'unit' | 'method' | 'code'>;
  private readonly duration: Histogram<'unit' | 'method'>;
  private readonly queuing: Histogram<'unit'>;
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
    this.requests = new Counter({ name: 'corpc_requests_total', help: 'Calls handled, by unit, method and status', labelNames: ['unit', 'method', 'code'], registers });
    this.duration = new Histogram({
      name: 'corpc_request_duration_seconds',
      help: 'Handler time',
      labelNames: ['unit', 'method'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.queuing = new Histogram({
      name: 'corpc_queuing_seconds',
      help: 'Queuing time: from arrival in the worker to the handler start, plus the event-loop delay the admission controller measured',
      labelNames: ['unit'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const counter = <L extends string>(name: string, help: string, labelNames: L[]): Counter<L> => new Counter({ name, help, labelNames, registers });
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
    this.arrivals = counter('corpc_admission_arrivals_total', 'Requests that reached the admission controller, by method', ['unit', 'method']);
    this.methodRejections = counter(
      'corpc_admission_method_rejections_total',
      'Requests refused (or, in dry-run mode, that would have been) before a handler ran, by method',
      ['unit', 'method'],
    );
    const windowGauge = (name: string, help: string): Gauge<'unit'> => new Gauge({ name, help, labelNames: ['unit'], registers });
    this.windowGauges = {
      avgQueuing: windowGauge('corpc_admission_queuing_avg_seconds', 'Average queuing time of the last admission window (event-loop delay included)'),
      p99Queuing: windowGauge('corpc_admission_queuing_p99_seconds', '99th percentile queuing time of the last admission window'),
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
    serverGauge('corpc_admission_level', 'Admission level A (compound B*128+U): requests with a level above it are refused', (s) => s.admission.policy.level);
    serverGauge('corpc_admission_business_level', 'Business priority part B of the admission level', (s) => businessOf(s.admission.policy.level));
    serverGauge('corpc_admission_user_level', 'User priority part U of the admission level', (s) => userOf(s.admission.policy.level));
    serverGauge('corpc_admission_advertised_level', 'Admission level sent to callers with every answer (they shed above it)', (s) => s.admissionLevel);
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
    resolverCounter('corpc_resolver_stale_served_total', 'Resolver answers served stale because DNS failed', (r) => r.staleServed);
    subscribe(ADMISSION_WINDOW_CHANNEL, this.onWindow);
  }

  /** Stops listening to the admission controllers. */
  close(): void {
    unsubscribe(ADMISSION_WINDOW_CHANNEL, this.onWindow);
  }

  /** Watches a unit's server (admission controller, queue, connections). */
  addUnit(unit: string, server: Server): void {
    this.units.set(unit, { server, window: emptyWindow() });
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
    dashboard.rejected += enforced;
    dashboard.started += window.started;
    dashboard.queuingMsSum += window.avgQueuingMs * window.started;
    dashboard.overloaded = window.overloaded;
  }

  /** Wraps a unit's handlers so that each call is counted, timed, and its queuing time recorded. */
  instrument<H extends object>(unit: string, service: ServiceDescriptor, handlers: H): H {
    const wrapped: Record<string, unknown> = {};
    const state = this.units.get(unit);
    const admission = state?.server.admission;
    for (const [key, descriptor] of Object.entries(service.methods)) {
      const handler = (handlers as Record<string, (request: unknown, ctx: RequestContext) => unknown>)[key]!;
      const method = descriptor.path;
      const ok = this.requests.labels(unit, method, 'OK');
      const duration = this.duration.labels(unit, method);
      const queuing = this.queuing.labels(unit);
      const requests = this.requests;
      wrapped[key] = async (request: unknown, ctx: RequestContext): Promise<unknown> => {
        const started = performance.now();
        // What the controller counts as this request's queuing time: the wait in the process
        // plus the event-loop delay it measured over its last window.
        queuing.observe((ctx.queuingMs + (admission?.metrics()?.loopDelayMs ?? 0)) / 1000);
        const window = state?.window;
        if (window !== undefined) window.calls++;
        try {
          const result = await handler(request, ctx);
          ok.inc();
          if (window !== undefined) window.ok++;
          return result;
        } catch (error) {
          requests.inc({ unit, method, code: RpcError.from(error).code });
          throw error;
        } finally {
          duration.observe((performance.now() - started) / 1000);
        }
      };
    }
    return wrapped as H;
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
  snapshot(): WorkerSnapshot {
    const nowMs = Date.now();
    const units: Record<string, UnitWindow> = {};
    for (const [name, state] of this.units) {
      const stats = state.server.stats();
      units[name] = {
        ...state.window,
        admissionLevel: state.server.admission.policy.level,
        inFlight: stats.inFlight,
        queued: stats.queued,
        connections: stats.connections,
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
}

function emptyWindow(): UnitWindow {
  return { admissionLevel: 0, inFlight: 0, queued: 0, connections: 0, calls: 0, ok: 0, rejected: 0, started: 0, queuingMsSum: 0, overloaded: false };
}

