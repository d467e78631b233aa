import { availableParallelism } from 'node:os';
import { formatHostPort } from 'corpc/internal';
import type { AdmissionConfig, RuntimeConfig } from './config.ts';
import { methodNames } from './method-names.ts';
import { ConfigError } from './schema.ts';
import type { ServiceModule } from './service-module.ts';

/**
 * The run plan: the validated config made concrete for one process group. The supervisor makes
 * it once and hands it to every worker, so all workers listen on the same ports and agree on
 * where the other units are. A port of 0 stays 0: every worker listens on 0 and node:cluster
 * gives all of them the one port it bound for the first (nothing picks a port and lets it go);
 * the address of such a unit is known once the first worker has bound it (`sharedPorts`).
 */

export interface UnitPlan {
  readonly name: string;
  /** The configured port; 0 = the port node:cluster binds for the group. */
  readonly port: number;
  readonly entry: boolean;
  readonly maxConcurrency: number | undefined;
  readonly maxQueueLength: number | undefined;
  readonly maxFrameBytes: number | undefined;
  /** The server's `admission` option: the top-level keys, then the unit's own. */
  readonly admission: AdmissionConfig;
}

export interface HttpPlan {
  /** 0 = the port node:cluster binds for the group. */
  readonly port: number;
  readonly host: string;
  readonly userIdHeader: string;
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
}

export interface RunPlan {
  readonly modulePath: string;
  readonly workers: number;
  readonly host: string;
  readonly logLevel: RuntimeConfig['log']['level'];
  /** The units this process group runs. */
  readonly units: readonly UnitPlan[];
  /**
   * Where every unit of the module (and every unit named in the config) is reached; a unit on
   * port 0 with no configured address is missing until `sharedPorts` is known.
   */
  readonly addresses: Readonly<Record<string, string>>;
  /**
   * The ports the group's workers listen on, as the first worker bound them (what it reported):
   * null until then. A worker started while others hold the ports gets them here and checks that
   * node:cluster gave it the same.
   */
  readonly sharedPorts: BoundPorts | null;
  readonly http: HttpPlan | null;
  readonly admin: { readonly port: number; readonly host: string };
  readonly drainGraceMs: number;
  readonly restart: RuntimeConfig['restart'];
  /** The entry secret, and the business table keyed by wire path (`corpc.demo.Gateway/Login`). */
  readonly priority: RuntimeConfig['priority'];
  /** Every unit serves the reflection service. */
  readonly reflection: boolean;
}

/** The ports a worker listens on: per unit, and the HTTP entry's (null without one). */
export interface BoundPorts {
  readonly units: Readonly<Record<string, number>>;
  readonly http: number | null;
}

/** The address other processes reach a unit at when it listens on `host`. */
export function reachable(host: string, port: number): string {
  const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return formatHostPort(local, port);
}

export function makePlan(config: RuntimeConfig, module: ServiceModule, modulePath: string): RunPlan {
  const known = new Set(module.units.map((unit) => unit.name));
  const selected = config.units === undefined ? [...known] : config.units.split(',').map((name) => name.trim());
  for (const name of selected) {
    if (!known.has(name))
      throw new ConfigError('units', `no unit "${name}" in ${modulePath} (units: ${[...known].join(', ')})`);
  }
  const units: UnitPlan[] = [];
  const addresses: Record<string, string> = {};
  for (const unit of module.units) {
    const settings = config.services[unit.name];
    const running = selected.includes(unit.name);
    const port = settings?.port ?? unit.port;
    const address = settings?.address ?? (port === 0 ? undefined : reachable(config.host, port));
    if (address !== undefined) addresses[unit.name] = address;
    else if (!running) {
      throw new ConfigError(
        `services.${unit.name}`,
        `"${unit.name}" is not run here (--units) and has port 0: give its address (services.${unit.name}.address) or its port`,
      );
    }
    if (!running) continue;
    units.push({
      name: unit.name,
      port,
      entry: unit.service.entry === true,
      maxConcurrency: settings?.maxConcurrency ?? unit.defaults?.maxConcurrency,
      maxQueueLength: settings?.maxQueueLength ?? unit.defaults?.maxQueueLength,
      maxFrameBytes: settings?.maxFrameBytes,
      admission: { ...config.admission, ...settings?.admission },
    });
  }
  for (const [name, settings] of Object.entries(config.services)) {
    if (known.has(name)) continue;
    if (settings.address === undefined) {
      throw new ConfigError(
        `services.${name}`,
        `"${name}" is not a unit of ${modulePath}; give its address or remove it`,
      );
    }
    addresses[name] = settings.address;
  }
  const http = config.http;
  const withHttp = http.enabled === 'on' && units.some((unit) => unit.entry);
  return {
    modulePath,
    workers: config.workers === 'auto' ? availableParallelism() : config.workers,
    host: config.host,
    logLevel: config.log.level,
    units,
    addresses,
    sharedPorts: null,
    http: withHttp
      ? {
          port: http.port,
          host: http.host,
          userIdHeader: http.userIdHeader.toLowerCase(),
          timeoutMs: http.timeoutMs,
          maxBodyBytes: http.maxBodyBytes,
        }
      : null,
    admin: config.admin,
    drainGraceMs: config.drain.graceMs,
    restart: config.restart,
    priority: { secret: config.priority.secret, business: businessTable(config.priority.business, module) },
    reflection: config.reflection ?? module.reflection ?? false,
  };
}

/**
 * `priority.business` keyed by wire path: a key may name an entry method any way the HTTP entry
 * accepts (`Gateway/Login`); a key naming no entry method stops start-up.
 */
function businessTable(overrides: Readonly<Record<string, number>>, module: ServiceModule): Record<string, number> {
  const paths = new Map<string, string>();
  for (const unit of module.units) {
    if (unit.service.entry !== true) continue;
    for (const [key, method] of Object.entries(unit.service.methods)) {
      for (const name of methodNames(unit.service, key, method)) paths.set(name, method.path);
    }
  }
  const table: Record<string, number> = {};
  for (const [name, level] of Object.entries(overrides)) {
    const path = paths.get(name);
    if (path === undefined) {
      const known = [...new Set(paths.values())];
      throw new ConfigError(
        `priority.business.${name}`,
        `no entry method by that name (entry methods: ${known.length === 0 ? 'none' : known.join(', ')})`,
      );
    }
    table[path] = level;
  }
  return table;
}
