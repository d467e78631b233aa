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
