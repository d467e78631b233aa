/**
 * `corpc run <service module or dir> [options]`: runs the units of a service module in a
 * process group — a supervisor and N workers (node:cluster) — with the HTTP entry and the admin
 * port. See docs/runtime.md.
 */
import cluster from 'node:cluster';
import { applyEnvironment, readConfigFile, setPath, validateConfig, type ConfigSources } from './config.ts';
import { AdminServer } from './admin.ts';
import { parseCommandLine } from './command-line.ts';
import { createLogger } from './logger.ts';
import { makePlan, type BoundPorts, type RunPlan } from './plan.ts';
import { ConfigError } from './schema.ts';
import { loadServiceModule, resolveModulePath, type ServiceModule } from './service-module.ts';
import { Supervisor } from './supervisor.ts';

const USAGE = `usage: corpc run <service module or dir> [options]

options:
  --port N          port of the first unit; the others follow (N+1, N+2…); 0 = free ports
  --workers N       worker processes (default: one per core)
  --config FILE     config file: .json, or a .ts/.js module exporting the object as default
  --host H          interface the units listen on (default 127.0.0.1)
  --http-port N     HTTP entry port (default 8080; 0 = a free port)
  --admin-port N    admin port: /healthz /readyz /metrics /dashboard (default 9464; 0 = a free port)
  --units a,b       run only these units of the module (the others are reached at their addresses)
  --grace-ms N      drain grace period on SIGTERM/SIGINT (default 10000)
  --log-level L     fatal|error|warn|info|debug|trace|silent (default info)
  -h, --help

Environment variables override the config file; flags override both (docs/runtime.md).`;

/** A second signal within this time of the first is the same keypress seen twice (npm and the shell both forward it). */
const SAME_SIGNAL_MS = 500;

interface Flags {
  module: string;
  configFile: string | undefined;
  /** Config path, value, and the flag that set it. */
  overrides: [string, unknown, string][];
  basePort: number | undefined;
}

/** A command line that cannot run: printed with the usage, exit code 2. */
interface BadFlags {
  problem: string;
}

function parseFlags(argv: string[]): Flags | BadFlags | 'help' {
  let parsed;
  try {
    parsed = parseCommandLine({
      args: argv,
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        workers: { type: 'string' },
        config: { type: 'string' },
        host: { type: 'string' },
        'http-port': { type: 'string' },
        'admin-port': { type: 'string' },
        units: { type: 'string' },
        'grace-ms': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return { problem: (error as Error).message };
  }
  const { values, positionals } = parsed;
  if (values.help === true) return 'help';
  if (positionals.length !== 1) {
    return {
      problem:
        positionals.length === 0
          ? 'name a service module or directory'
          : `one module only, got ${positionals.join(' ')}`,
    };
  }
  const number = (text: string): number | string => (/^\d+$/.test(text) ? Number(text) : text);
  const overrides: Flags['overrides'] = [];
  const flag = (name: keyof typeof values, path: string, convert = false): void => {
    const value = values[name];
    if (typeof value === 'string') overrides.push([path, convert ? number(value) : value, `--${name}`]);
  };
  flag('workers', 'workers', values.workers !== 'auto');
  flag('host', 'host');
  flag('http-port', 'http.port', true);
  flag('admin-port', 'admin.port', true);
  flag('units', 'units');
  flag('grace-ms', 'drain.graceMs', true);
  flag('log-level', 'log.level');
  let basePort: number | undefined;
  if (values.port !== undefined) {
    const port = number(values.port);
    if (typeof port !== 'number' || port > 65535)
      return { problem: `--port: expected integer in 0..65535, got ${JSON.stringify(values.port)}` };
    basePort = port;
  }
  return { module: positionals[0]!, configFile: values.config, overrides, basePort };
}

async function configure(flags: Flags, module: ServiceModule, modulePath: string): Promise<RunPlan> {
  let raw: Record<string, unknown> = flags.configFile === undefined ? {} : await readConfigFile(flags.configFile);
  const sources: ConfigSources = new Map();
  raw = applyEnvironment(
    raw,
    process.env,
    module.units.map((unit) => unit.name),
    sources,
  );
  if (flags.basePort !== undefined) {
    for (const [index, unit] of module.units.entries()) {
      setPath(raw, `services.${unit.name}.port`, flags.basePort === 0 ? 0 : flags.basePort + index);
      sources.set(`services.${unit.name}.port`, '--port');
    }
  }
  for (const [path, value, flag] of flags.overrides) {
    setPath(raw, path, value);
    sources.set(path, flag);
  }
  return makePlan(validateConfig(raw, sources), module, modulePath);
}

export async function main(argv: string[]): Promise<number> {
  if (!cluster.isPrimary) throw new Error('corpc run: the supervisor must be the cluster primary');
  const flags = parseFlags(argv);
  if (flags === 'help') {
    console.log(USAGE);
    return 0;
  }
  if ('problem' in flags) {
    console.error(`corpc run: ${flags.problem}\n(corpc run --help for the options)`);
    return 2;
  }
  let module: ServiceModule;
  let plan: RunPlan;
  try {
    const modulePath = resolveModulePath(flags.module);
    module = await loadServiceModule(modulePath);
    plan = await configure(flags, module, modulePath);
  } catch (error) {
    console.error(`corpc run: ${(error as Error).message}`);
    return error instanceof ConfigError ? 2 : 1;
  }
  const logger = createLogger(plan.logLevel, { worker: 'supervisor' });
  logger.debug({ plan }, 'effective config');

  const supervisor = new Supervisor(plan, logger);
  const admin = new AdminServer(supervisor);
  let adminAddress;
  try {
    adminAddress = await admin.listen(plan.admin.port, plan.admin.host);
  } catch (error) {
    console.error(`corpc run: admin port ${plan.admin.host}:${plan.admin.port}: ${(error as Error).message}`);
    return 1;
  }

  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    const now = Date.now();
    if (firstSignalAt === 0) {
      firstSignalAt = now;
      logger.info({ signal }, `${signal}: draining (a second signal stops at once)`);
      void supervisor.drain().then(() => finish(0));
    } else if (now - firstSignalAt > SAME_SIGNAL_MS) {
      logger.warn({ signal }, `${signal} again: stopping now`);
      supervisor.kill();
      finish(1);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  supervisor.onAllDown = () => {
    logger.error('every worker is in a crash loop; stopping');
    finish(1);
  };

  try {
    await supervisor.start();
  } catch (error) {
    console.error(`corpc run: ${(error as Error).message}`);
    supervisor.kill();
    await admin.close();
    return 1;
  }
  if (firstSignalAt === 0) printBanner(plan, supervisor.ports!, module, adminAddress.port);
  const code = await finished;
  await admin.close();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  logger.info({ code }, 'stopped');
  return code;
}

/** The banner, with the ports the workers listen on (`ports`: port-0 settings made concrete). */
function printBanner(plan: RunPlan, ports: BoundPorts, module: ServiceModule, adminPort: number): void {
  const lines = [`corpc: ${plan.units.length} unit(s) in ${plan.workers} worker(s), ready`];
  for (const unit of plan.units)
    lines.push(`  unit ${unit.name.padEnd(12)} ${plan.host}:${ports.units[unit.name]}${unit.entry ? '  (entry)' : ''}`);
  const admin = `http://${plan.admin.host}:${adminPort}`;
  if (plan.http !== null) lines.push(`  http entry        http://${plan.http.host}:${ports.http}`);
  lines.push(`  admin             ${admin}  (/healthz /readyz /metrics)`, `  dashboard         ${admin}/dashboard`);
  if (plan.http !== null) {
    const example = module.example ?? firstEntryExample(module, plan);
    if (example !== null) {
      lines.push(
        'try:',
        `curl -X POST http://${plan.http.host}:${ports.http}/${example.method} -H 'content-type: application/json' -H '${plan.http.userIdHeader}: u-42' --data '${JSON.stringify(example.body)}'`,
      );
    }
  }
  lines.push('Ctrl-C drains and stops.');
  console.log(lines.join('\n'));
}

function firstEntryExample(module: ServiceModule, plan: RunPlan): { method: string; body: unknown } | null {
  const entry = module.units.find((unit) => plan.units.some((u) => u.name === unit.name && u.entry));
  const method = entry === undefined ? undefined : Object.values(entry.service.methods)[0];
  return method === undefined ? null : { method: method.path, body: {} };
}
