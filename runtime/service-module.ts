import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type {
  ClientInterceptor,
  Health,
  ServerInterceptor,
  ServiceClient,
  ServiceDescriptor,
  ServiceHandlers,
} from 'corpc';
import type { Logger } from 'pino';
import type { ServiceConfig } from './config.ts';

/**
 * What `corpc run <module>` runs: a module whose default export lists service units. A unit is
 * one service on its own port; every worker runs every unit of the module (node:cluster shares
 * each port between the workers). Units find each other by name: `env.client(Accounts, 'accounts')`
 * connects to the address configured for the unit `accounts`.
 */

export interface ServiceEnv {
  /** This unit's name and effective config. */
  readonly name: string;
  readonly config: ServiceConfig;
  /** A logger whose lines carry the unit name and the current request's trace id. */
  readonly logger: Logger;
  /** A client for another unit of the process group (or any unit configured under `services`), by name. */
  client<S extends ServiceDescriptor>(service: S, unit: string): ServiceClient<S>;
  /**
   * This worker's health statuses of the unit (its server's `health`): `env.health.set('', 'NOT_SERVING')`
   * while a dependency is down makes `/readyz` answer 503 (docs/health.md).
   */
  readonly health: Health;
}

export interface ServiceUnit<S extends ServiceDescriptor = ServiceDescriptor> {
  /** The unit's name: its config key (`services.<name>`) and its label in logs and metrics. */
  readonly name: string;
  readonly service: S;
  /** The port used when the config sets none. */
  readonly port: number;
  /** Server limits used when the config sets none (`services.<name>.maxConcurrency`…). */
  readonly defaults?: { readonly maxConcurrency?: number; readonly maxQueueLength?: number };
  /** Builds the handlers once per worker. */
  handlers(env: ServiceEnv): ServiceHandlers<S> | Promise<ServiceHandlers<S>>;
}

/** Interceptors for the whole process group: every unit's server and the HTTP entry (`server`), every client of a unit (`client`). */
export interface ModuleInterceptors {
  readonly server?: readonly ServerInterceptor[];
  readonly client?: readonly ClientInterceptor[];
}

export interface ServiceModule {
  readonly units: readonly ServiceUnit[];
  /** Run around every call the units serve and make (`openTelemetry()` from corpc/opentelemetry gives a pair). */
  readonly interceptors?: ModuleInterceptors;
  /** The request `corpc run` prints as a ready-to-paste curl line (`method` is `<Service>/<Method>`, as the HTTP entry routes it). */
  readonly example?: { readonly method: string; readonly body: unknown };
  /** Serve the reflection service on every unit, unless the config says otherwise (`reflection`). Default false. */
  readonly reflection?: boolean;
}

/** Declares one unit with its handler types checked against its descriptor. */
export function defineUnit<S extends ServiceDescriptor>(unit: ServiceUnit<S>): ServiceUnit {
  return unit as unknown as ServiceUnit;
}

/** Resolves `<file>` or `<dir>` (its index.ts / index.js) to a module file. */
export function resolveModulePath(target: string): string {
  const path = resolve(target);
  if (!existsSync(path)) throw new Error(`service module ${target} does not exist`);
  if (!statSync(path).isDirectory()) return path;
  for (const name of ['index.ts', 'index.js', 'index.mjs']) {
    if (existsSync(join(path, name))) return join(path, name);
  }
  throw new Error(`service directory ${target} has no index.ts or index.js`);
}

/** Loads a service module and checks its shape. */
export async function loadServiceModule(path: string): Promise<ServiceModule> {
  const loaded = (await import(pathToFileURL(path).href)) as { default?: unknown };
  const module = loaded.default as Partial<ServiceModule> | undefined;
  if (module === undefined || !Array.isArray(module.units) || module.units.length === 0) {
    throw new Error(`${path}: the default export must be { units: [...] } with at least one unit (see defineUnit)`);
  }
  const interceptors: unknown = module.interceptors;
  if (
    interceptors !== undefined &&
    (typeof interceptors !== 'object' || interceptors === null || Array.isArray(interceptors))
  ) {
    throw new Error(
      `${path}: interceptors must be { server?: [...], client?: [...] }, got ${Array.isArray(interceptors) ? 'an array' : String(interceptors)}`,
    );
  }
  const names = new Set<string>();
  for (const [index, unit] of module.units.entries()) {
    const where = `${path}: units[${index}]`;
    if (typeof unit?.name !== 'string' || !/^[a-z][a-zA-Z0-9-]*$/.test(unit.name)) {
      throw new Error(`${where}: name must be a lowercase identifier, got ${JSON.stringify(unit?.name)}`);
    }
    if (names.has(unit.name)) throw new Error(`${where}: the name "${unit.name}" is used twice`);
    names.add(unit.name);
    if (typeof unit.service?.name !== 'string' || typeof unit.handlers !== 'function') {
      throw new Error(`${where} (${unit.name}): needs a service descriptor and a handlers(env) function`);
    }
    if (!Number.isInteger(unit.port) || unit.port < 0 || unit.port > 65535) {
      throw new Error(`${where} (${unit.name}): port must be an integer in 0..65535, got ${String(unit.port)}`);
    }
  }
  if (module.reflection !== undefined && typeof module.reflection !== 'boolean') {
    throw new Error(`${path}: reflection must be true or false, got ${JSON.stringify(module.reflection)}`);
  }
  return module as ServiceModule;
}
