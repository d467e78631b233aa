import { InvalidArgumentError } from './errors.ts';

/**
 * Option checks shared by every constructor: each one names the option and says what was
 * expected, so `maxFrameBytes: "abc"` fails with `maxFrameBytes must be an integer ≥ 1024, got "abc"`.
 */

function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

export function integerOption(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in ${min}..${max}`;
    throw new InvalidArgumentError(`${name} must be an integer ${range}, got ${shown(value)}`);
  }
  return value;
}

export function numberOption(name: string, value: unknown, fallback: number, min: number, max = Infinity): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    const range = max === Infinity ? `≥ ${min}` : `in ${min}..${max}`;
    throw new InvalidArgumentError(`${name} must be a number ${range}, got ${shown(value)}`);
  }
  return value;
}

export function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidArgumentError(`${name} must be a boolean, got ${shown(value)}`);
  return value;
}

export function stringOption(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '') {
    throw new InvalidArgumentError(`${name} must be a non-empty string, got ${shown(value)}`);
  }
  return value;
}

export function oneOfOption<T extends string>(name: string, value: unknown, fallback: T, allowed: readonly T[]): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw new InvalidArgumentError(`${name} must be one of ${allowed.join(', ')}, got ${shown(value)}`);
  }
  return value as T;
}

/**
 * Every option name of `T`, each once: `optionNames<ServerOptions>({ concurrency: true, … })` does
 * not type-check when a name is missing or one is not an option, so the list follows the type.
 */
export function optionNames<T extends object>(names: { readonly [K in keyof Required<T>]: true }): readonly string[] {
  return Object.freeze(Object.keys(names));
}

/**
 * Rejects a misspelt option: the first own key of `options` that is not in `known` throws
 * `admission.alpa: unknown key (did you mean "alpha"?)` (`path` is where the object sits, '' at
 * the top), the wording of the config file's check. Runs once, at construction.
 */
export function knownKeys(path: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key))
      throw new InvalidArgumentError(`${path === '' ? key : `${path}.${key}`}: ${unknownKey(key, known)}`);
  }
}

/** `unknown key (did you mean "alpha"?)`, or `unknown key` when no known key is near. */
export function unknownKey(key: string, known: Iterable<string>): string {
  const near = closestName(key, known);
  return `unknown key${near === undefined ? '' : ` (did you mean "${near}"?)`}`;
}

/**
 * The candidate nearest to a misspelt name (case ignored; a swap of two neighbours counts as one
 * edit), if it is near enough to be a likely typo; never the name itself. Shared by option and
 * config checks and `corpc gen`'s diagnostics.
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  const lower = name.toLowerCase();
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance with adjacent transpositions counted as one edit. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, d[(i - 2) * cols + j - 2]! + 1);
      }
      d[i * cols + j] = value;
    }
  }
  return d[rows * cols - 1]!;
}
