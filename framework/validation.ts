/**
 * What the validating decoders that `corpc gen` writes share: building the error for a bad field
 * and a few small checks. The checks of each field stay generated, straight-line, in the decoder of
 * its message; only what is the same for every message lives here.
 *
 * Exported from 'corpc' as the `validation` namespace, for generated code: generated modules import
 * only the public entry, so this surface is stable (changing it breaks code generated before).
 *
 * A decoder throws an `InvalidField` for the first bad field; the decoders of the enclosing
 * messages prefix its path (`nest`) as it unwinds, and the method's `decoder` wrapper turns it into
 * an RpcError: INVALID_ARGUMENT (reason `invalid_request`) for a request, INTERNAL (reason
 * `invalid_response`) for a response, with the method and the field path in the message.
 */
import { Reason, RpcError, Status } from './errors.ts';

/** A message body read as its fields. */
export type Fields = { readonly [key: string]: unknown };

/**
 * A field that failed validation; its path grows as it unwinds through the enclosing messages.
 * It carries no stack trace: it describes bad data, not a bug, and recording one was two thirds
 * of the cost of rejecting a malformed body.
 */
export class InvalidField extends Error {
  override readonly name = 'InvalidField';
  /** Where the bad value is, from the message being decoded: `items[1].price.units`; '' for the message itself. */
  path: string;
  /** What is wrong with it: `must be a string, got 3`. */
  readonly problem: string;

  constructor(path: string, problem: string) {
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(problem);
    Error.stackTraceLimit = stackTraceLimit;
    this.path = path;
    this.problem = problem;
  }
}

/** A short description of a value for an error message: `"abc"`, `3`, `7n`, `a list`, `bytes`, `an object`. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return value.length > 32 ? `a string ("${value.slice(0, 32)}…")` : `"${value}"`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined) return String(value);
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Uint8Array) return 'bytes';
  if (value instanceof Date)
    return Number.isNaN(value.getTime()) ? 'an invalid Date' : `the Date ${value.toISOString()}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** Throws: the value at `path` is not what it must be (`must be <expected>, got <value>`). */
export function fail(path: string, expected: string, got: unknown): never {
  throw new InvalidField(path, `must be ${expected}, got ${describe(got)}`);
}

/** Throws: the value at `path` breaks a rule other than its type (a oneof with two members set). */
export function invalid(path: string, problem: string): never {
  throw new InvalidField(path, problem);
}

/**
 * Rethrows what decoding a nested value threw, with `segment` (the field, or the field and index or
 * key: `items[1]`, `byName["a"]`) put in front of an InvalidField's path.
 */
export function nest(error: unknown, segment: string): never {
  if (error instanceof InvalidField) {
    error.path =
      error.path === '' ? segment : error.path[0] === '[' ? segment + error.path : `${segment}.${error.path}`;
  }
  throw error;
}

const EMPTY: Fields = Object.freeze({});

/** The fields of a message body: absent (`undefined` or `null`) is a message of defaults; anything else must be a map. */
export function fields(value: unknown): Fields {
  if (value === undefined || value === null) return EMPTY;
  if (typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) fail('', 'an object', value);
  return value as Fields;
}

/** The entries of a map field at `path` (present: the caller handles absent). */
export function map(value: unknown, path: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array)
    fail(path, 'a map', value);
  return value as Fields;
}

/** Whether a value is a list (a repeated field). */
export const isList: (value: unknown) => value is unknown[] = Array.isArray;

/** Whether a value is bytes. */
export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

/** The default of a bytes field: a new empty `Uint8Array`. */
export function emptyBytes(): Uint8Array {
  return new Uint8Array(0);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

/**
 * A 64-bit integer as a number: accepted as a safe-integer number or as a bigint in that range
 * (0..2^53-1 when `unsigned`); undefined for anything else.
 */
export function int64(value: unknown, unsigned: boolean): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && (!unsigned || value >= 0) ? value : undefined;
  if (typeof value === 'bigint')
    return value <= MAX_SAFE && value >= (unsigned ? 0n : MIN_SAFE) ? Number(value) : undefined;
  return undefined;
}

/** `google.protobuf.Timestamp`'s range, 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999Z, in ms since the epoch. */
const MIN_TIMESTAMP_MS = -62_135_596_800_000;
const MAX_TIMESTAMP_MS = 253_402_300_799_999;
/** RFC 3339, as proto3's JSON mapping writes a Timestamp: `2026-12-02T01:00:00.5Z`, `…+01:00`. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * A `google.protobuf.Timestamp` as a Date: a valid Date (MessagePack's timestamp extension
 * decodes to one) or an RFC 3339 string (what JSON callers send), within the Timestamp range;
 * undefined for anything else.
 */
export function timestamp(value: unknown): Date | undefined {
  let date: Date;
  if (value instanceof Date) date = value;
  else if (typeof value === 'string' && RFC3339.test(value)) date = new Date(value);
  else return undefined;
  const ms = date.getTime();
  return ms >= MIN_TIMESTAMP_MS && ms <= MAX_TIMESTAMP_MS ? date : undefined;
}

/** `google.protobuf.Duration`'s range (±10,000 years) in ms. */
export const MAX_DURATION_MS = 315_576_000_000_000;

/** Checks a body against `google.protobuf.Empty`: absent or a map (its fields, if any, are dropped). */
export function decodeEmpty(value: unknown): { [key: string]: never } {
  fields(value);
  return {};
}

/** Whether a map key is an integer in min..max written the canonical way (`"7"`, not `"07"` or `"7.0"`). */
export function intKey(key: string, min: number, max: number): boolean {
  const n = Number(key);
  return key !== '' && Number.isInteger(n) && n >= min && n <= max && String(n) === key;
}

/** Sets `target[key]`, also for the key `__proto__` (which plain assignment would not store). */
export function put<T>(target: { [key: string]: T }, key: string, value: T): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Which side of a method a decoder checks. */
export type Side = 'request' | 'response';

/**
 * Wraps a message decoder for one side of the method at `path`: an InvalidField becomes an RpcError
 * naming the method and the field (INVALID_ARGUMENT `invalid_request` for a request, INTERNAL
 * `invalid_response` for a response), and so does a body nested too deeply to decode (RangeError).
 * Anything else is rethrown as it is.
 */
export function decoder<T>(path: string, side: Side, decode: (value: unknown) => T): (value: unknown) => T {
  return (value) => {
    try {
      return decode(value);
    } catch (error) {
      let problem: string;
      if (error instanceof InvalidField)
        problem = error.path === '' ? `the ${side} ${error.problem}` : `field "${error.path}" ${error.problem}`;
      else if (error instanceof RangeError) problem = `the ${side} is nested too deeply`;
      else throw error;
      if (side === 'request')
        throw new RpcError(Status.INVALID_ARGUMENT, `${path}: ${problem}`, { reason: Reason.InvalidRequest });
      throw new RpcError(Status.INTERNAL, `${path}: malformed response: ${problem}`, {
        reason: Reason.InvalidResponse,
      });
    }
  };
}
