import { businessOf, userOf, RpcError, type RequestContext, type Server, type ServiceDescriptor } from 'corpc';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PriorityWindow, UnitWindow, WorkerSnapshot } from './dashboard.ts';

/**
 * A worker's metrics (prom-client). Every series carries a `worker` label; the supervisor
 * aggregates the workers' registries for /metrics. Names:
 *
 * - corpc_requests_total{unit,method,code}            calls handled, by status name
 * - corpc_request_duration_seconds{unit,method}       handler time (histogram)
 * - corpc_queuing_seconds{unit}                        arrival → handler start (histogram)
 * - corpc_admission_level{unit}, corpc_admission_business_level{unit}, corpc_admission_user_level{unit}
 * - corpc_admission_rejections_total{unit,reason}     requests refused before a handler ran
 * - corpc_server_in_flight / _queued / _connections{unit}
 * - corpc_http_requests_total{route,status,business}  and corpc_http_request_duration_seconds{route}
 * - corpc_resolver_cache_hits_total, corpc_resolver_stale_served_total
 * - nodejs_eventloop_lag_* and the other prom-client default metrics (event-loop delay)
 */

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** What the admission controller of a server reports (hook for the overload-control work). */
export interface AdmissionReport {
  /** Rejections since the last report, by reason (`level`, `queue_full`, `expired`…). */
  rejected: Readonly<Record<string, number>>;
}

/** Resolver counters (hook for the resolver work: `resolver.stats()`). */
export interface ResolverReport {
  cacheHits: number;
  staleServed: number;
}

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
      help: 'Queuing time: from arrival in the worker to the handler start',
      labelNames: ['unit'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.rejections = new Counter({
      name: 'corpc_admission_rejections_total',
      help: 'Requests refused before a handler ran, by reason',
      labelNames: ['unit', 'reason'],
      registers,
    });
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
    serverGauge('corpc_admission_level', 'Admission level A (compound B*128+U): requests with a level above it are refused', (s) => s.admissionLevel);
    serverGauge('corpc_admission_business_level', 'Business priority part of the admission level', (s) => businessOf(s.admissionLevel));
    serverGauge('corpc_admission_user_level', 'User priority part of the admission level', (s) => userOf(s.admissionLevel));
    serverGauge('corpc_server_in_flight', 'Requests read and not yet answered', (s) => s.stats().inFlight);
    serverGauge('corpc_server_queued', 'Requests waiting for a handler slot', (s) => s.stats().queued);
    serverGauge('corpc_server_connections', 'Open client connections', (s) => s.stats().connections);
    const resolver = (): ResolverReport | null => this.resolverSource?.() ?? null;
    new Gauge({
      name: 'corpc_resolver_cache_hits_total',
      help: 'Resolver lookups answered from the cache',
      registers,
      collect() {
        this.set(resolver()?.cacheHits ?? 0);
      },
    });
    new Gauge({
      name: 'corpc_resolver_stale_served_total',
      help: 'Resolver answers served stale because DNS failed',
      registers,
      collect() {
        this.set(resolver()?.staleServed ?? 0);
      },
    });
  }

  /** Watches a unit's server (admission level, queue, connections). */
  addUnit(unit: string, server: Server): void {
    this.units.set(unit, { server, window: emptyWindow() });
  }

  /** Hook: the resolver's counters, read at each scrape. */
  setResolverSource(source: () => ResolverReport): void {
    this.resolverSource = source;
  }

  /** Hook: admission rejections reported by a unit's admission controller. */
  recordAdmission(unit: string, report: AdmissionReport): void {
    for (const [reason, count] of Object.entries(report.rejected)) if (count > 0) this.rejections.inc({ unit, reason }, count);
  }

  /** Wraps a unit's handlers so that each call is counted, timed, and its queuing time recorded. */
  instrument<H extends object>(unit: string, service: ServiceDescriptor, handlers: H): H {
    const wrapped: Record<string, unknown> = {};
    const state = this.units.get(unit);
    for (const [key, descriptor] of Object.entries(service.methods)) {
      const handler = (handlers as Record<string, (request: unknown, ctx: RequestContext) => unknown>)[key]!;
      const method = descriptor.path;
      const ok = this.requests.labels(unit, method, 'OK');
      const duration = this.duration.labels(unit, method);
      const queuing = this.queuing.labels(unit);
      const requests = this.requests;
      wrapped[key] = async (request: unknown, ctx: RequestContext): Promise<unknown> => {
        const started = performance.now();
        const waited = queuingMsOf(ctx);
        if (waited !== null) queuing.observe(waited / 1000);
        const window = state?.window;
        if (window !== undefined) {
          window.calls++;
          window.queuingMsSum += waited ?? 0;
        }
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
        admissionLevel: state.server.admissionLevel,
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
  return { admissionLevel: 0, inFlight: 0, queued: 0, connections: 0, calls: 0, ok: 0, queuingMsSum: 0 };
}

/**
 * Queuing time of the current call, read from the server's call record (arrival and handler
 * start on the same monotonic clock). Hook: when the admission controller reports per-window
 * queuing time, prefer that.
 */
function queuingMsOf(ctx: RequestContext): number | null {
  const call = ctx as RequestContext & { arrivedAt?: unknown; startedAt?: unknown };
  if (typeof call.arrivedAt !== 'number' || typeof call.startedAt !== 'number' || call.startedAt === 0) return null;
  return call.startedAt - call.arrivedAt;
}
