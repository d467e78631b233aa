import { InvalidArgumentError } from 'corpc';
import { unknownKey } from 'corpc/internal';

/**
 * A small declarative schema for the runtime's config: each node checks one value and, on a
 * mismatch, throws an error that names the path and the reason:
 * `services.accounts.maxConcurrency: expected integer ≥ 1, got "ten"`.
 * Values from environment variables arrive as strings; `fromEnv` converts them for the node.
 */

export class ConfigError extends InvalidArgumentError {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path === '' ? '(config)' : path}: ${problem}`);
  }
}

export interface Schema<T> {
  /** What the value should be, for messages and docs (`integer ≥ 1`). */
  readonly expected: string;
  check(value: unknown, path: string): T;
  /** Converts an environment variable's text to a value this node accepts (or leaves it for `check` to reject). */
  fromEnv(text: string): unknown;
  /** The schema of a child key (objects and records), for looking a path up. */
  child?(key: string): Schema<unknown> | undefined;
  /** The value to check when the key is absent (objects: `{}`, so that their own defaults apply). */
  readonly whenMissing?: unknown;
}

function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function fail(path: string, expected: string, value: unknown): never {
  throw new ConfigError(path, `expected ${expected}, got ${shown(value)}`);
}

export function integer(min: number, max = Number.MAX_SAFE_INTEGER): Schema<number> {
  return numeric('integer', Number.isInteger, /^-?\d+$/, min, max, Number.MAX_SAFE_INTEGER);
}

/** A finite number in `min..max` (fractions allowed: `admission.alpha`). */
export function number(min: number, max = Number.MAX_VALUE): Schema<number> {
  return numeric('number', Number.isFinite, /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/, min, max, Number.MAX_VALUE);
}

function numeric(
  kind: string,
  valid: (value: number) => boolean,
  text: RegExp,
  min: number,
  max: number,
  unbounded: number,
): Schema<number> {
  const expected = max === unbounded ? `${kind} ≥ ${min}` : `${kind} in ${min}..${max}`;
  return {
    expected,
    check(value, path) {
      if (typeof value !== 'number' || !valid(value) || value < min || value > max) fail(path, expected, value);
      return value;
    },
    fromEnv: (input) => (text.test(input.trim()) ? Number(input) : input),
  };
}

/** `true` or `false` (from the environment: `true`/`false`, `on`/`off`, `1`/`0`). */
export function boolean(): Schema<boolean> {
  return {
    expected: 'true or false',
    check(value, path) {
      if (typeof value !== 'boolean') fail(path, 'true or false', value);
      return value;
    },
    fromEnv: (text) => {
      const word = text.trim().toLowerCase();
      if (word === 'true' || word === 'on' || word === '1') return true;
      if (word === 'false' || word === 'off' || word === '0') return false;
      return text;
    },
  };
}

export function string(): Schema<string> {
  return {
    expected: 'non-empty string',
    check(value, path) {
      if (typeof value !== 'string' || value === '') fail(path, 'non-empty string', value);
      return value;
    },
    fromEnv: (text) => text,
  };
}

export function oneOf<T extends string>(allowed: readonly T[]): Schema<T> {
  const expected = `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`;
  return {
    expected,
    check(value, path) {
      if (!allowed.includes(value as T)) fail(path, expected, value);
      return value as T;
    },
    fromEnv: (text) => text,
  };
}

/** Either of two schemas (tried in order); e.g. an integer or `"auto"`. */
export function either<A, B>(first: Schema<A>, second: Schema<B>): Schema<A | B> {
  const expected = `${first.expected} or ${second.expected}`;
  return {
    expected,
    check(value, path) {
      for (const schema of [first, second] as Schema<A | B>[]) {
        try {
          return schema.check(value, path);
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
        }
      }
      return fail(path, expected, value);
    },
    fromEnv: (text) => {
      const converted = first.fromEnv(text);
      return converted === text ? second.fromEnv(text) : converted;
    },
  };
}

export type Shape = Record<string, Schema<unknown>>;
type ValueOf<N> = N extends Schema<infer T> ? T : never;
/** Keys with a default (or objects, which default to `{}`) are always present; the others may be absent. */
export type Infer<S extends Shape, D> = {
  readonly [K in keyof S as K extends keyof D ? K : S[K] extends { whenMissing: object } ? K : never]: ValueOf<S[K]>;
} & {
  readonly [K in keyof S as K extends keyof D ? never : S[K] extends { whenMissing: object } ? never : K]?: ValueOf<
    S[K]
  >;
};

/** The value type a schema checks for. */
export type TypeOf<N> = ValueOf<N>;

/** An object with known keys; a key not in the shape is an error (with a suggestion when one is close). */
export function object<S extends Shape, const D extends { [K in keyof S]?: ValueOf<S[K]> } = Record<never, never>>(
  shape: S,
  defaults?: D,
): Schema<Infer<S, D>> & { whenMissing: object } {
  return {
    expected: 'object',
    whenMissing: {},
    child: (key) => shape[key],
    check(value, path) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'object', value);
      const input = value as Record<string, unknown>;
      for (const key of Object.keys(input)) {
        if (!(key in shape)) {
          throw new ConfigError(join(path, key), unknownKey(key, Object.keys(shape)));
        }
      }
      const out: Record<string, unknown> = {};
      for (const [key, schema] of Object.entries(shape)) {
        const given = input[key] ?? (defaults as Record<string, unknown> | undefined)?.[key] ?? schema.whenMissing;
        if (given !== undefined) out[key] = schema.check(given, join(path, key));
      }
      return Object.freeze(out) as Infer<S, D>;
    },
    fromEnv: (text) => text,
  };
}

/** A map from names the user chooses (service names, method paths) to values of one schema. */
export function record<T>(values: Schema<T>): Schema<Readonly<Record<string, T>>> {
  return {
    expected: 'object',
    child: () => values,
    check(value, path) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'object', value);
      const out: Record<string, T> = {};
      for (const [key, item] of Object.entries(value as Record<string, unknown>))
        out[key] = values.check(item, join(path, key));
      return Object.freeze(out);
    },
    fromEnv: (text) => text,
  };
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** The schema node at a dotted path (`services.accounts.port`), if the path exists in the schema. */
export function schemaAt(root: Schema<unknown>, path: string): Schema<unknown> | undefined {
  let node: Schema<unknown> | undefined = root;
  for (const key of path.split('.')) node = node?.child?.(key);
  return node;
}
