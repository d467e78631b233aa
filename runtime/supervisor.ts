import cluster, { type Worker } from 'node:cluster';
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AggregatorRegistry,
  Counter,
  Gauge,
  Registry,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';
import type { Logger } from 'pino';
import type { AdminSource } from './admin.ts';
import { DashboardHistory, dashboardView, type DashboardView } from './dashboard.ts';
import { PLAN_ENV, isCorpcMessage, type SupervisorMessage, type UnitHealth, type WorkerMessage } from './ipc.ts';
import { reachable, type BoundPorts, type RunPlan } from './plan.ts';

/**
 * The supervisor (node:cluster primary) of a process group: starts one worker per slot, replaces
 * a worker that dies (with exponential backoff; a slot that crashes more than `maxRestarts` times
 * within `windowMs` is a crash loop: reported and left down), collects metrics and dashboard
 * snapshots from the workers, and drains them on shutdown.
 *
 * Ports of 0: the first worker binds them (node:cluster picks one port per listen and gives every
 * later worker that listens on 0 the same one, as long as one worker holds it); the other workers
 * start once it has reported them, with the units' addresses filled in. When every worker has
 * died, node:cluster has closed the ports: from then on they are the group's ports, bound again
 * by number by the next workers, as a configured port is (nothing else picks a port).
 */

type State = 'starting' | 'running' | 'draining' | 'stopped';

interface Slot {
  readonly index: number;
  worker: Worker | null;
  ready: boolean;
  /** Exit times of recent crashes, for backoff and crash-loop detection. */
  crashes: number[];
  givenUp: boolean;
  restartTimer: NodeJS.Timeout | null;
  /** To be started once the first worker has bound the group's port-0 ports. */
  waitingForPorts: boolean;
  /** The worker's health of each unit, as it last reported (with `ready`, then on each change). */
  health: UnitHealth;
}

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** The worker entry: beside this file in the sources; `dist/runtime/worker.js` when built (this code is then in a chunk in dist/). */
const workerFile = [`./worker${extname(fileURLToPath(import.meta.url))}`, './runtime/worker.js']
  .map((relative) => fileURLToPath(new URL(relative, import.meta.url)))
  .find((path) => existsSync(path))!;
/** How long /metrics waits for the workers' answers; a worker that does not answer in time is left out. */
const METRICS_WAIT_MS = 1000;

export class Supervisor implements AdminSource {
  private state: State = 'starting';
  private readonly slots: Slot[];
  private readonly history = new DashboardHistory();
  private readonly businessNames: Record<string, string[]> = {};
  private historyTimer: NodeJS.Timeout | null = null;
  private readonly metricRequests = new Map<
    number,
    { pending: Set<number>; results: MetricsJson[]; done: () => void }
  >();
  private nextMetricsId = 1;
  private readonly registry = new Registry();
  private readonly restarts: Counter;
  private startWaiter: { resolve: () => void; reject: (error: Error) => void } | null = null;
  /** Whether some unit or the HTTP entry listens on port 0. */
  private readonly sharesFreePorts: boolean;
  /** The ports the workers listen on, as the first one to hold them reported; null before. */
  private shared: BoundPorts | null = null;
  /**
   * Whether new workers listen on the group's ports by number rather than on 0. node:cluster
   * shares a listener per (host, port as asked): while workers that asked for 0 live, new ones
   * must ask for 0 too; once none lives, the ports are bound by number.
   */
  private byNumber = false;
  private exited: (() => void) | null = null;
  /** Called when every slot is in a crash loop: nothing is left to serve. */
  onAllDown: (() => void) | null = null;

  constructor(
    private readonly plan: RunPlan,
    private readonly logger: Logger,
  ) {
    this.slots = Array.from({ length: plan.workers }, (_, index) => ({
      index,
      worker: null,
      ready: false,
      crashes: [],
      givenUp: false,
      restartTimer: null,
      waitingForPorts: false,
      health: {},
    }));
    this.sharesFreePorts = plan.units.some((unit) => unit.port === 0) || plan.http?.port === 0;
    const registers = [this.registry];
    this.registry.setDefaultLabels({ worker: 'supervisor' });
    this.restarts = new Counter({
      name: 'corpc_worker_restarts_total',
      help: 'Workers replaced after they died',
      registers,
    });
    const slots = this.slots;
    new Gauge({
      name: 'corpc_workers',
      help: 'Workers running and ready',
      registers,
      collect() {
        this.set(slots.filter((slot) => slot.ready).length);
      },
    });
    new Gauge({
      name: 'corpc_crash_looping_workers',
      help: 'Worker slots left down after a crash loop',
      registers,
      collect() {
        this.set(slots.filter((slot) => slot.givenUp).length);
      },
    });
    for (const [path, business] of Object.entries(plan.priority.business))
      (this.businessNames[business] ??= []).push(path);
    // Workers send their snapshots on the second (worker.ts); a point is made 400 ms later, so a
    // worker's snapshot is in time unless its event loop is that late.
    this.historyTimer = setTimeout(
      () => {
        this.historyTimer = setInterval(() => this.history.tick(), 1000).unref();
        this.history.tick();
      },
      1400 - (Date.now() % 1000),
    ).unref();
    cluster.setupPrimary({ exec: workerFile, execArgv: process.execArgv });
    cluster.on('message', (worker, message) => this.onMessage(worker, message));
    cluster.on('exit', (worker, code, signal) => this.onExit(worker, code, signal));
  }

  /** Running, with a live worker, and every live worker's units SERVING (their servers' health). */
  get ready(): boolean {
    return (
      this.state === 'running' &&
      this.liveWorkers > 0 &&
      Object.values(this.units).every((status) => status === 'SERVING')
    );
  }

  /** Each unit's health over the live workers: NOT_SERVING when any of them says so. */
  get units(): UnitHealth {
    const units: UnitHealth = {};
    for (const slot of this.slots) {
      if (!slot.ready) continue;
      for (const [unit, status] of Object.entries(slot.health)) if (units[unit] !== 'NOT_SERVING') units[unit] = status;
    }
    return units;
  }

  get draining(): boolean {
    return this.state === 'draining';
  }

  /** The ports the workers listen on (port-0 settings made concrete); null before a worker is ready. */
  get ports(): BoundPorts | null {
    return this.shared;
  }

  get liveWorkers(): number {
    return this.slots.filter((slot) => slot.ready).length;
  }

  /** Starts every worker; resolves when all are ready, rejects if one fails to start. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.startWaiter = { resolve, reject };
      for (const slot of this.slots) this.fork(slot);
    });
  }

  /** Drains every worker (each finishes its calls within the grace period); resolves when all have exited. */
  async drain(): Promise<void> {
    if (this.state === 'draining' || this.state === 'stopped') return;
    this.state = 'draining';
    this.logger.info({ graceMs: this.plan.drainGraceMs }, 'draining: not ready, telling clients to go elsewhere');
    for (const slot of this.slots) {
      if (slot.restartTimer !== null) clearTimeout(slot.restartTimer);
      slot.restartTimer = null;
      slot.waitingForPorts = false;
    }
    const waiting = new Promise<void>((resolve) => (this.exited = resolve));
    for (const slot of this.slots)
      if (slot.worker !== null) this.send(slot.worker, { corpc: 'drain', graceMs: this.plan.drainGraceMs });
    this.checkAllExited();
    // A worker that does not finish within the grace period (plus a margin) is killed.
    const force = setTimeout(() => this.kill(), this.plan.drainGraceMs + 2000);
    force.unref();
    await waiting;
    clearTimeout(force);
    if (this.historyTimer !== null) clearTimeout(this.historyTimer);
    this.state = 'stopped';
  }

  /** Kills every worker at once (a second signal). */
  kill(): void {
    for (const slot of this.slots) {
      if (slot.restartTimer !== null) clearTimeout(slot.restartTimer);
      slot.worker?.process.kill('SIGKILL');
    }
  }

  async metrics(): Promise<{ contentType: string; text: string }> {
    const id = this.nextMetricsId++;
    const results: MetricsJson[] = [];
    const pending = new Set<number>();
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.metricRequests.delete(id);
        resolve();
      };
      const timer = setTimeout(done, METRICS_WAIT_MS);
      this.metricRequests.set(id, { pending, results, done });
      for (const slot of this.slots) {
        const worker = slot.worker;
        if (worker !== null && slot.ready && worker.isConnected()) {
          pending.add(worker.id);
          this.send(worker, { corpc: 'metrics?', id });
        }
      }
      if (pending.size === 0) done();
    });
    results.push(await this.registry.getMetricsAsJSON());
    const aggregated = AggregatorRegistry.aggregate(results);
    return { contentType: aggregated.contentType, text: await aggregated.metrics() };
  }

  view(since: number | null = null): DashboardView {
    return dashboardView(
      this.history,
      { ready: this.ready, draining: this.draining, workers: this.liveWorkers, businessNames: this.businessNames },
      since,
    );
  }

  private fork(slot: Slot): void {
    slot.restartTimer = null;
    slot.ready = false;
    // Another worker is binding the group's free ports: start this one when they are known.
    slot.waitingForPorts = this.sharesFreePorts && this.shared === null && this.slots.some((s) => s.worker !== null);
    if (slot.waitingForPorts) return;
    const worker = cluster.fork({
      [PLAN_ENV]: JSON.stringify(this.workerPlan()),
      CORPC_WORKER_SLOT: String(slot.index),
    });
    slot.worker = worker;
    this.logger.debug({ worker: worker.id, slot: slot.index }, 'worker started');
  }

  /** The plan a new worker gets: with the group's ports, and the addresses of port-0 units, once known. */
  private workerPlan(): RunPlan {
    const shared = this.shared;
    if (!this.sharesFreePorts || shared === null) return this.plan;
    const addresses = { ...this.plan.addresses };
    for (const unit of this.plan.units) addresses[unit.name] ??= reachable(this.plan.host, shared.units[unit.name]!);
    const plan = { ...this.plan, addresses, sharedPorts: shared };
    if (!this.byNumber) return plan;
    const http = plan.http === null ? null : { ...plan.http, port: shared.http! };
    return { ...plan, http, units: plan.units.map((unit) => ({ ...unit, port: shared.units[unit.name]! })) };
  }

  private slotOf(worker: Worker): Slot | undefined {
    return this.slots.find((slot) => slot.worker === worker);
  }

  private send(worker: Worker, message: SupervisorMessage): void {
    if (worker.isConnected()) worker.send(message);
  }

  private onMessage(worker: Worker, message: unknown): void {
    if (!isCorpcMessage<WorkerMessage>(message)) return;
    const slot = this.slotOf(worker);
    if (slot === undefined) return;
    switch (message.corpc) {
      case 'ready':
        slot.ready = true;
        slot.health = message.health;
        if (this.shared === null) {
          this.shared = message.ports;
          for (const waiting of this.slots) if (waiting.waitingForPorts) this.fork(waiting);
        }
        if (this.state === 'draining') this.send(worker, { corpc: 'drain', graceMs: this.plan.drainGraceMs });
        else if (this.state === 'starting' && this.slots.every((s) => s.ready)) {
          this.state = 'running';
          this.startWaiter?.resolve();
          this.startWaiter = null;
        } else if (this.state === 'running')
          this.logger.info({ worker: worker.id, slot: slot.index }, 'replacement worker ready');
        return;
      case 'failed':
        if (this.state === 'starting') {
          this.startWaiter?.reject(new Error(message.message));
          this.startWaiter = null;
        }
        return;
      case 'health':
        slot.health = message.health;
        return;
      case 'snapshot':
        this.history.add(message.snapshot);
        return;
      case 'metrics': {
        const request = this.metricRequests.get(message.id);
        if (request === undefined) return;
        request.results.push(message.metrics);
        request.pending.delete(worker.id);
        if (request.pending.size === 0) request.done();
        return;
      }
    }
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    const slot = this.slotOf(worker);
    if (slot === undefined) return;
    slot.worker = null;
    slot.ready = false;
    // No worker holds the ports any more: node:cluster has closed them; the next workers bind them by number.
    if (this.shared !== null && this.slots.every((s) => s.worker === null)) this.byNumber = true;
    this.history.forget(worker.id);
    for (const request of this.metricRequests.values()) {
      if (request.pending.delete(worker.id) && request.pending.size === 0) request.done();
    }
    if (this.state === 'draining' || this.state === 'stopped') {
      this.checkAllExited();
      return;
    }
    const how = signal === null ? `exit code ${code}` : `signal ${signal}`;
    if (this.state === 'starting') {
      this.startWaiter?.reject(new Error(`a worker exited during start-up (${how})`));
      this.startWaiter = null;
      return;
    }
    const now = Date.now();
    slot.crashes = slot.crashes.filter((at) => now - at < this.plan.restart.windowMs);
    slot.crashes.push(now);
    if (slot.crashes.length > this.plan.restart.maxRestarts) {
      slot.givenUp = true;
      this.logger.error(
        { slot: slot.index, crashes: slot.crashes.length, windowMs: this.plan.restart.windowMs },
        `crash loop: worker slot ${slot.index} died ${slot.crashes.length} times in ${this.plan.restart.windowMs} ms (last: ${how}); not restarting it`,
      );
      if (this.slots.every((s) => s.givenUp)) this.onAllDown?.();
      return;
    }
    const { initialBackoffMs, maxBackoffMs } = this.plan.restart;
    const backoff = Math.min(maxBackoffMs, initialBackoffMs * 2 ** (slot.crashes.length - 1));
    this.restarts.inc();
    this.logger.warn(
      { worker: worker.id, slot: slot.index, backoffMs: backoff },
      `worker died (${how}); replacing it in ${backoff} ms`,
    );
    slot.restartTimer = setTimeout(() => this.fork(slot), backoff);
  }

  private checkAllExited(): void {
    if (this.slots.every((slot) => slot.worker === null)) {
      this.exited?.();
      this.exited = null;
    }
  }
}
