/**
 * A worker process of `corpc run`: runs every unit of the plan on its port (shared with the
 * other workers through node:cluster), the HTTP entry if the plan has one, and reports to the
 * supervisor (ready, dashboard snapshots, metrics on request). It drains when the supervisor
 * says so; it never acts on SIGINT/SIGTERM itself (the supervisor owns shutdown).
 */
import cluster from 'node:cluster';
import {
  createChannel,
  createClient,
  createServer,
  type Channel,
  type EntryOptions,
  type Server,
  type ServiceDescriptor,
} from 'corpc';
import { EntryPriorities, defaultResolver } from 'corpc/internal';
import { HttpEntry, type EntryService } from './http-entry.ts';
import { PLAN_ENV, isCorpcMessage, type SupervisorMessage, type UnitHealth, type WorkerMessage } from './ipc.ts';
import { createLogger } from './logger.ts';
import { WorkerMetrics } from './metrics.ts';
import { reachable, type RunPlan } from './plan.ts';
import { loadServiceModule, type ModuleInterceptors, type ServiceEnv } from './service-module.ts';

function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(message);
}

const plan = JSON.parse(process.env[PLAN_ENV] ?? 'null') as RunPlan | null;
if (plan === null || !cluster.isWorker) {
  console.error('corpc: runtime/worker.ts is started by `corpc run`, not directly');
  process.exit(2);
}
const workerId = cluster.worker!.id;
const logger = createLogger(plan.logLevel, { worker: workerId });
const metrics = new WorkerMetrics(workerId);
// Every channel of this worker resolves names through the process's shared resolver.
metrics.setResolverSource(() => defaultResolver().stats());
/** How entry servers (and the HTTP entry, identically) assign priorities. */
const entryOptions: EntryOptions = { secret: plan.priority.secret, businessPriorities: plan.priority.business };
const servers: { name: string; server: Server; service: string }[] = [];
/** Where the units are: the plan's addresses, and those of port-0 units once this worker knows their port. */
const addresses: Record<string, string> = { ...plan.addresses };
/** The ports this worker listens on (reported with `ready`). */
const ports: { units: Record<string, number>; http: number | null } = { units: {}, http: null };
const channels = new Map<string, Channel>();
let httpEntry: HttpEntry | null = null;
/** The module's interceptors (set once it is loaded, before any channel or server exists). */
let interceptors: ModuleInterceptors = {};
let draining: Promise<void> | null = null;

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);
// The supervisor is gone (killed): nobody will tell us to drain, so leave now.
process.on('disconnect', () => void drain(plan.drainGraceMs).finally(() => process.exit(0)));

/** One channel per unit address, shared by every client of that unit in this worker. */
function channelTo(unit: string): Channel {
  let channel = channels.get(unit);
  if (channel === undefined) {
    const address = addresses[unit];
    if (address === undefined) {
      throw new Error(
        `no unit "${unit}": name one of ${Object.keys(addresses).join(', ')}, or add services.${unit}.address to the config`,
      );
    }
    channel = createChannel(address, { interceptors: interceptors.client ?? [] });
    channels.set(unit, channel);
    metrics.addChannel(unit, channel);
  }
  return channel;
}

/**
 * Listens on a unit's (or the HTTP entry's) port. On port 0 node:cluster gives this worker the
 * port it bound for the first worker that asked; a worker told the group's port (`expected`)
 * fails its start if it got another one (the workers that held it died in the meantime): the
 * supervisor replaces it, and its replacement binds the group's port by number.
 */
async function bind(
  what: string,
  listen: () => Promise<{ port: number }>,
  expected: number | undefined,
): Promise<number> {
  const { port } = await listen();
  if (expected !== undefined && port !== expected) {
    throw new Error(
      `${what}: node:cluster gave port ${port}, the group listens on ${expected}; the workers that held it are gone`,
    );
  }
  return port;
}

async function start(): Promise<void> {
  const module = await loadServiceModule(plan!.modulePath);
  interceptors = module.interceptors ?? {};
  const entries: EntryService[] = [];
  const host = plan!.host;
  const units = plan!.units.map((unitPlan) => ({
    unitPlan,
    unit: module.units.find((candidate) => candidate.name === unitPlan.name)!,
    server: createServer({
      ...(unitPlan.maxConcurrency === undefined ? {} : { concurrency: unitPlan.maxConcurrency }),
      ...(unitPlan.maxQueueLength === undefined ? {} : { maxQueueLength: unitPlan.maxQueueLength }),
      ...(unitPlan.maxFrameBytes === undefined ? {} : { maxFrameBytes: unitPlan.maxFrameBytes }),
      admission: unitPlan.admission,
      entry: entryOptions,
      interceptors: interceptors.server ?? [],
      reflection: plan!.reflection,
    }),
  }));
  const listen = ({ unitPlan, server }: (typeof units)[number]) =>
    bind(
      `unit ${unitPlan.name}`,
      () => server.listen({ port: unitPlan.port, host }),
      plan!.sharedPorts?.units[unitPlan.name],
    );
  // The first worker of the group: units on port 0 listen before any handler is built, so that
  // the units calling them know their address. Nobody knows these ports yet, so no call comes in
  // before their services are added; later workers get the ports in the plan and listen last.
  const early = new Set(plan!.sharedPorts === null ? units.filter(({ unitPlan }) => unitPlan.port === 0) : []);
  for (const unit of early) {
    const port = await listen(unit);
    ports.units[unit.unitPlan.name] = port;
    addresses[unit.unitPlan.name] ??= reachable(host, port);
  }
  for (const entry of units) {
    const { unitPlan, unit, server } = entry;
    const env: ServiceEnv = {
      name: unit.name,
      config: { port: unitPlan.port, address: addresses[unit.name]!, admission: unitPlan.admission },
      logger: logger.child({ unit: unit.name }),
      client: <S extends ServiceDescriptor>(service: S, name: string) => createClient(service, channelTo(name)),
      health: server.health,
    };
    metrics.addUnit(unit.name, server);
    const handlers = await unit.handlers(env);
    server.addService(unit.service, handlers, { observe: metrics.observer(unit.name) });
    if (!early.has(entry)) ports.units[unit.name] = await listen(entry);
    servers.push({ name: unit.name, server, service: unit.service.name });
    server.health.subscribe(() => {
      if (draining === null) send({ corpc: 'health', health: unitHealth() });
    });
    if (unitPlan.entry) entries.push({ service: unit.service, channel: channelTo(unit.name) });
  }
  if (plan!.http !== null) {
    httpEntry = new HttpEntry({
      plan: plan!.http,
      services: entries,
      priorities: new EntryPriorities(entryOptions),
      logger: logger.child({ unit: 'http' }),
      interceptors: interceptors.server ?? [],
      onRequest: (route, status, business, seconds, actions) =>
        metrics.recordHttp(route, status, business, seconds, actions),
    });
    const entry = httpEntry;
    ports.http = await bind('the HTTP entry', () => entry.listen(), plan!.sharedPorts?.http ?? undefined);
  }
}

/** Each unit's status for `/readyz`: SERVING when its server and its service both are. */
function unitHealth(): UnitHealth {
  const health: UnitHealth = {};
  for (const { name, server, service } of servers) {
    health[name] =
      server.health.get('') === 'SERVING' && server.health.get(service) === 'SERVING' ? 'SERVING' : 'NOT_SERVING';
  }
  return health;
}

/** Stops the HTTP entry, then each unit in the module's order (callers before callees), then the clients. */
function drain(graceMs: number): Promise<void> {
  if (draining !== null) return draining;
  const deadline = Date.now() + graceMs;
  const left = (): number => Math.max(0, deadline - Date.now());
  draining = (async () => {
    logger.info({ graceMs }, 'draining');
    await httpEntry?.close(left());
    for (const { server } of servers) await server.close(left());
    await Promise.all([...channels.values()].map((channel) => channel.close()));
    logger.info('drained');
  })();
  return draining;
}

process.on('message', (message: unknown) => {
  if (!isCorpcMessage<SupervisorMessage>(message)) return;
  if (message.corpc === 'drain') {
    void drain(message.graceMs).then(() => process.exit(0));
  } else if (message.corpc === 'metrics?') {
    void metrics.registry.getMetricsAsJSON().then((json) => send({ corpc: 'metrics', id: message.id, metrics: json }));
  }
});

try {
  await start();
  send({ corpc: 'ready', ports, health: unitHealth() });
  logger.debug({ ports }, 'worker ready');
  // On the second, as the supervisor expects (supervisor.ts makes its history point 400 ms later).
  const sendSnapshot = (): void => void metrics.snapshot().then((snapshot) => send({ corpc: 'snapshot', snapshot }));
  setTimeout(
    () => {
      sendSnapshot();
      setInterval(sendSnapshot, 1000).unref();
    },
    1000 - (Date.now() % 1000),
  ).unref();
} catch (error) {
  logger.error({ err: error }, 'worker failed to start');
  send({ corpc: 'failed', message: (error as Error).message });
  process.exitCode = 1;
  setImmediate(() => process.exit(1));
}
