import { readFile } from 'node:fs/promises';
import { POLICY_NAMES } from 'corpc/internal';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  ConfigError,
  boolean,
  either,
  integer,
  number,
  object,
  oneOf,
  record,
  schemaAt,
  string,
  type TypeOf,
} from './schema.ts';

/**
 * The runtime's configuration: defaults, then a config file (JSON, or a `.ts`/`.js` module whose
 * default export is the object), then environment variables, then command-line flags. The result
 * is validated against the schema below (a bad key or value stops start-up with its path) and
 * frozen.
 */

const port = integer(0, 65535);

/**
 * Overload control of each worker's servers (the framework's `admission` server option; see
 * docs/overload-control.md). Set at the top level for every unit, and per unit under
 * `services.<unit>.admission` (key by key over the top level). Ranges match the framework's.
 */
const admissionSchema = object({
  /** `dagor` (default), `dagor-local`, `dagor-rt`, `seda`, `codel`, `random` or `none`. */
  policy: oneOf(POLICY_NAMES),
  /** Decide and report, reject nothing (the queue ceiling still holds). */
  dryRun: boolean(),
  /** A window ends after this many ms or `windowRequests` arrivals, whichever first. */
  windowMs: integer(10),
  windowRequests: integer(1),
  /** Overloaded when a window's average queuing time is above this. */
  queuingThresholdMs: number(0),
  responseThresholdMs: number(0),
  alpha: number(0.001, 0.9),
  beta: number(0.001, 1),
  maxRaiseLevels: integer(1),
  codelTargetMs: number(0),
  codelIntervalMs: number(1),
  sedaTargetMs: number(1),
});

const serviceSchema = object({
  /** Port this service listens on (shared by all workers); 0 picks a free one at start. */
  port,
  /** How other services reach it: `host:port`, or any address the client accepts (`dns:///…`). Default `<host>:<port>`. */
  address: string(),
  /** Handlers running at once per worker. */
  maxConcurrency: integer(1),
  /** Requests waiting for a handler slot per worker (hard ceiling). */
  maxQueueLength: integer(1),
  maxFrameBytes: integer(1024),
  /** Overrides of the top-level `admission` keys for this unit. */
  admission: admissionSchema,
});

const configSchema = object(
  {
    /** Worker processes; `"auto"` = one per core. */
    workers: either(integer(1, 256), oneOf(['auto'] as const)),
    /** Interface the services listen on. */
    host: string(),
    /** Which units of the module this process group runs, comma-separated (default: all). */
    units: string(),
    log: object(
      { level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const) },
      { level: 'info' },
    ),
    admin: object({ port, host: string() }, { port: 9464, host: '127.0.0.1' }),
    http: object(
      {
        /** 0 picks a free port. */
        port,
        host: string(),
        /** The header that names the user; its keyed hash is the user priority. */
        userIdHeader: string(),
        /** Deadline of an HTTP request when its method sets none. */
        timeoutMs: integer(1),
        maxBodyBytes: integer(1),
        enabled: oneOf(['on', 'off'] as const),
      },
      {
        port: 8080,
        host: '127.0.0.1',
        userIdHeader: 'x-user-id',
        timeoutMs: 500,
        maxBodyBytes: 1024 * 1024,
        enabled: 'on',
      },
    ),
    drain: object({ graceMs: integer(0) }, { graceMs: 10_000 }),
    restart: object(
      {
        initialBackoffMs: integer(1),
        maxBackoffMs: integer(1),
        /** More crashes than this within `windowMs` is a crash loop: the worker is not replaced again. */
        maxRestarts: integer(0),
        windowMs: integer(1),
      },
      { initialBackoffMs: 100, maxBackoffMs: 5000, maxRestarts: 5, windowMs: 30_000 },
    ),
    priority: object(
      {
        /** Shared secret for the hourly user-priority key; every entry process must use the same. */
        secret: string(),
        /** Overrides of the entry table: `"Gateway/Login": 0`. */
        business: record(integer(0, 63)),
      },
      { secret: 'corpc-default-secret-change-me', business: {} },
    ),
    admission: admissionSchema,
    /** Serve the reflection service on every unit (`corpc list`, `corpc call`). Default: the module's `reflection`, else false. */
    reflection: boolean(),
    services: record(serviceSchema),
  },
  { workers: 'auto', host: '127.0.0.1', services: {} },
);

export type RuntimeConfig = TypeOf<typeof configSchema>;
export type ServiceConfig = TypeOf<typeof serviceSchema>;
export type AdmissionConfig = TypeOf<typeof admissionSchema>;

/** Environment variables and the config keys they set (documented in docs/runtime.md). */
const ENVIRONMENT: Readonly<Record<string, string>> = {
  CORPC_WORKERS: 'workers',
  CORPC_HOST: 'host',
  CORPC_UNITS: 'units',
  CORPC_LOG_LEVEL: 'log.level',
  CORPC_ADMIN_PORT: 'admin.port',
  CORPC_ADMIN_HOST: 'admin.host',
  CORPC_HTTP_PORT: 'http.port',
  CORPC_HTTP_HOST: 'http.host',
  CORPC_HTTP_USER_ID_HEADER: 'http.userIdHeader',
  CORPC_HTTP_TIMEOUT_MS: 'http.timeoutMs',
  CORPC_DRAIN_GRACE_MS: 'drain.graceMs',
  CORPC_PRIORITY_SECRET: 'priority.secret',
  CORPC_ADMISSION_POLICY: 'admission.policy',
  CORPC_ADMISSION_DRY_RUN: 'admission.dryRun',
  CORPC_ADMISSION_WINDOW_MS: 'admission.windowMs',
  CORPC_ADMISSION_QUEUING_THRESHOLD_MS: 'admission.queuingThresholdMs',
  CORPC_REFLECTION: 'reflection',
};

/** Per-service variables: `CORPC_SERVICE_<NAME>_<KEY>`, e.g. `CORPC_SERVICE_ACCOUNTS_ADDRESS`. */
const SERVICE_ENVIRONMENT: Readonly<Record<string, string>> = {
  PORT: 'port',
  ADDRESS: 'address',
  MAX_CONCURRENCY: 'maxConcurrency',
  MAX_QUEUE_LENGTH: 'maxQueueLength',
  ADMISSION_POLICY: 'admission.policy',
  ADMISSION_DRY_RUN: 'admission.dryRun',
};

function serviceEnvName(service: string, key: string): string {
  return `CORPC_SERVICE_${service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${key}`;
}

/** Reads a config file: `.json`, or a module (`.ts`, `.js`, `.mjs`) exporting the object as default. */
export async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  const path = resolve(file);
  let value: unknown;
  try {
    if (extname(path) === '.json') {
      value = JSON.parse(await readFile(path, 'utf8'));
    } else {
      const module = (await import(pathToFileURL(path).href)) as { default?: unknown };
      value = module.default;
    }
  } catch (error) {
    throw new ConfigError('', `cannot read config file ${file}: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(
      '',
      `config file ${file} must hold an object, got ${Array.isArray(value) ? 'an array' : typeof value}`,
    );
  }
  return value as Record<string, unknown>;
}

/** Sets `value` at a dotted path in a plain object tree, creating objects on the way. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    node = node[key] = typeof next === 'object' && next !== null && !Array.isArray(next) ? { ...(next as object) } : {};
  }
  node[keys[keys.length - 1]!] = value;
}

/** What set a config path when the file did not (`CORPC_HTTP_PORT`, `--http-port`), so that errors can name it. */
export type ConfigSources = Map<string, string>;

/**
 * Applies environment overrides to a raw config, noting in `sources` which variable set each
 * path, so that a bad value names its variable and the key:
 * `CORPC_HTTP_PORT (http.port): expected integer in 0..65535, got "http"`.
 */
export function applyEnvironment(
  raw: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  services: readonly string[],
  sources: ConfigSources = new Map(),
): Record<string, unknown> {
  const out = structuredClone(raw);
  const apply = (variable: string, path: string): void => {
    const text = env[variable];
    if (text === undefined || text === '') return;
    const schema = schemaAt(configSchema, path);
    setPath(out, path, schema === undefined ? text : schema.fromEnv(text));
    sources.set(path, variable);
  };
  for (const [variable, path] of Object.entries(ENVIRONMENT)) apply(variable, path);
  for (const service of services) {
    for (const [suffix, key] of Object.entries(SERVICE_ENVIRONMENT))
      apply(serviceEnvName(service, suffix), `services.${service}.${key}`);
  }
  return out;
}

/** Validates a raw config; errors name the path (and the variable or flag that set it, from `sources`). */
export function validateConfig(
  raw: Record<string, unknown>,
  sources: ReadonlyMap<string, string> = new Map(),
): RuntimeConfig {
  try {
    return configSchema.check(raw, '') as RuntimeConfig;
  } catch (error) {
    if (error instanceof ConfigError) {
      const source = sources.get(error.path);
      if (source !== undefined) throw new ConfigError(`${source} (${error.path})`, error.problem);
    }
    throw error;
  }
}
