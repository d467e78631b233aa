import { isBusinessPriority, isUserPriority } from '../priority.ts';
import { RequestHeader, REQUEST_HEADER_FIELDS, unpackAt } from './frames.ts';

/**
 * The request header `[method, deadlineMs, business, user, traceId, metadata|nil]` (frames.ts).
 *
 * The client writes it by hand on its hot path: byte for byte what msgpackr writes (a test holds
 * the two to it), at about half the cost (bench/micro/call-header.ts). The hand-written part
 * covers what a corpc client sends without metadata — ASCII strings under 256 bytes, unsigned
 * integers; any other header (non-ASCII text, metadata) is packed by msgpackr.
 *
 * The server reads that same shape straight from the bytes (RequestHeaderReader), so a request
 * rejected by its priority never has its strings decoded; any other header is decoded by msgpackr.
 */

const FIXARRAY_6 = 0x90 | REQUEST_HEADER_FIELDS;
const NIL = 0xc0;
const UINT8 = 0xcc;
const UINT16 = 0xcd;
const UINT32 = 0xce;
const FIXSTR = 0xa0;
const STR8 = 0xd9;
/** Longest string the hand-written path encodes (str8). */
const MAX_SHORT_STRING = 0xff;

/** Bytes of `value`, an ASCII string of at most MAX_SHORT_STRING characters, as MessagePack; -1 otherwise. */
function shortAsciiBytes(value: unknown): number {
  if (typeof value !== 'string' || value.length > MAX_SHORT_STRING) return -1;
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0x7f) return -1;
  return (value.length < 32 ? 1 : 2) + value.length;
}

/** Bytes of `value`, an unsigned 32-bit integer, as MessagePack; -1 otherwise. */
function uintBytes(value: unknown): number {
  if (typeof value !== 'number' || value >>> 0 !== value) return -1;
  return value < 0x80 ? 1 : value < 0x100 ? 2 : value < 0x10000 ? 3 : 5;
}

/**
 * The encoded length of `header` when the hand-written encoder can write it, or -1 when msgpackr
 * must (`packr.pack(header)` is then the encoding).
 */
export function requestHeaderLength(header: readonly unknown[]): number {
  if (header[RequestHeader.METADATA] !== null) return -1;
  const method = shortAsciiBytes(header[RequestHeader.METHOD]);
  const deadline = uintBytes(header[RequestHeader.DEADLINE_MS]);
  const business = uintBytes(header[RequestHeader.BUSINESS]);
  const user = uintBytes(header[RequestHeader.USER]);
  const traceId = shortAsciiBytes(header[RequestHeader.TRACE_ID]);
  if (method < 0 || deadline < 0 || business < 0 || user < 0 || traceId < 0) return -1;
  return 2 + method + deadline + business + user + traceId;
}

/** Writes `header` at `offset`; only for a header whose `requestHeaderLength` is not -1. Returns the end. */
export function writeRequestHeader(header: readonly unknown[], target: Buffer, offset: number): number {
  target[offset++] = FIXARRAY_6;
  offset = writeShortAscii(header[RequestHeader.METHOD] as string, target, offset);
  offset = writeUint(header[RequestHeader.DEADLINE_MS] as number, target, offset);
  offset = writeUint(header[RequestHeader.BUSINESS] as number, target, offset);
  offset = writeUint(header[RequestHeader.USER] as number, target, offset);
  offset = writeShortAscii(header[RequestHeader.TRACE_ID] as string, target, offset);
  target[offset++] = NIL;
  return offset;
}

function writeShortAscii(value: string, target: Buffer, offset: number): number {
  const length = value.length;
  if (length < 32) {
    target[offset++] = FIXSTR | length;
  } else {
    target[offset++] = STR8;
    target[offset++] = length;
  }
  for (let i = 0; i < length; i++) target[offset++] = value.charCodeAt(i);
  return offset;
}

function writeUint(value: number, target: Buffer, offset: number): number {
  if (value < 0x80) {
    target[offset++] = value;
  } else if (value < 0x100) {
    target[offset++] = UINT8;
    target[offset++] = value;
  } else if (value < 0x10000) {
    target[offset++] = UINT16;
    target.writeUInt16BE(value, offset);
    offset += 2;
  } else {
    target[offset++] = UINT32;
    target.writeUInt32BE(value, offset);
    offset += 4;
  }
  return offset;
}

/** Deadlines beyond this (about 24 days) are malformed: they would overflow a timer anyway. */
const MAX_DEADLINE_MS = 0x7fffffff;
const MAX_TRACE_ID_LENGTH = 128;
const EMPTY = Buffer.alloc(0);

/**
 * Reads request headers on the server, one at a time (the reader is reused: what it holds is the
 * last header read, valid until the next `read`).
 *
 * The shape a corpc client writes is read in place: the numbers, and where the method and the
 * trace id lie in the frame. Those two become JS strings only when asked for (`method`,
 * `traceId`), so the admission decision costs no string decoding, and the server can find the
 * method by its bytes (MethodTable). Any other header goes through msgpackr and the same checks
 * field by field; the two paths accept the same headers with the same values (a property test
 * holds them to it).
 */
export class RequestHeaderReader {
  /** The frame the header was read from. */
  buf: Buffer = EMPTY;
  /** The method's UTF-8 bytes in `buf`; -1 when the header was decoded by msgpackr (then see `method`). */
  methodStart = -1;
  methodEnd = -1;
  deadlineMs = 0;
  business = 0;
  user = 0;
  metadata: Record<string, string> | null = null;
  private methodText: string | null = null;
  private traceIdStart = 0;
  private traceIdEnd = 0;
  private traceIdText: string | null = null;

  /** Reads the header in `buf[start, end)`; returns null, or what is wrong with it (a sentence for the peer). */
  read(buf: Buffer, start: number, end: number): string | null {
    this.buf = buf;
    this.methodText = null;
    this.traceIdText = null;
    this.metadata = null;
    return this.readInPlace(buf, start, end) ? null : this.decode(buf, start, end);
  }

  get method(): string {
    return (this.methodText ??= this.buf.toString('utf8', this.methodStart, this.methodEnd));
  }

  get traceId(): string {
    return (this.traceIdText ??= this.buf.toString('utf8', this.traceIdStart, this.traceIdEnd));
  }

  /**
   * The general path: msgpackr, then the checks. Public so tests can hold both paths to the same
   * answers; the server calls `read`.
   */
  decode(buf: Buffer, start: number, end: number): string | null {
    this.buf = buf;
    this.methodStart = this.methodEnd = -1;
    let header: unknown;
    try {
      header = unpackAt(buf, start, end);
    } catch (error) {
      return `the request header is not valid MessagePack (${(error as Error).message})`;
    }
    const problem = problemOf(header);
    if (problem !== null) return `malformed request header: ${problem}`;
    const fields = header as unknown[];
    this.methodText = fields[RequestHeader.METHOD] as string;
    this.deadlineMs = fields[RequestHeader.DEADLINE_MS] as number;
    this.business = fields[RequestHeader.BUSINESS] as number;
    this.user = fields[RequestHeader.USER] as number;
    this.traceIdText = fields[RequestHeader.TRACE_ID] as string;
    this.metadata = fields[RequestHeader.METADATA] as Record<string, string> | null;
    return null;
  }

  /**
   * The usual shape, valid as it stands: fixarray 6, a non-empty str method, a uint deadline,
   * positive-fixint priorities in range, a str trace id of at most MAX_TRACE_ID_LENGTH bytes (so
   * at most that many characters), nil, and nothing after. False for anything else, which
   * `decode` then judges. A damaged header can make the reads run past `end`: the bytes found
   * there (or undefined, past the buffer) fail a check, or the final position does.
   */
  private readInPlace(buf: Buffer, start: number, end: number): boolean {
    let at = start;
    if (buf[at++] !== FIXARRAY_6) return false;
    at = stringAt(buf, at);
    if (at < 0 || at === stringStart) return false;
    this.methodStart = stringStart;
    this.methodEnd = at;
    let deadlineMs: number;
    const deadlineType = buf[at++]!;
    if (deadlineType < 0x80) {
      deadlineMs = deadlineType;
    } else if (deadlineType === UINT8) {
      deadlineMs = buf[at++]!;
    } else if (deadlineType === UINT16) {
      deadlineMs = buf[at]! * 0x100 + buf[at + 1]!;
      at += 2;
    } else if (deadlineType === UINT32) {
      deadlineMs = buf[at]! * 0x1000000 + buf[at + 1]! * 0x10000 + buf[at + 2]! * 0x100 + buf[at + 3]!;
      at += 4;
    } else {
      return false;
    }
    // NaN (bytes missing) fails this too.
    if (!(deadlineMs <= MAX_DEADLINE_MS)) return false;
    const business = buf[at++]!;
    const user = buf[at++]!;
    if (!isBusinessPriority(business) || !isUserPriority(user)) return false;
    at = stringAt(buf, at);
    if (at < 0 || at - stringStart > MAX_TRACE_ID_LENGTH) return false;
    this.traceIdStart = stringStart;
    this.traceIdEnd = at;
    if (buf[at++] !== NIL || at !== end) return false;
    this.deadlineMs = deadlineMs;
    this.business = business;
    this.user = user;
    return true;
  }
}

/** What is wrong with a header msgpackr decoded, or null. */
function problemOf(header: unknown): string | null {
  if (!Array.isArray(header) || header.length !== REQUEST_HEADER_FIELDS) {
    return `expected an array of ${REQUEST_HEADER_FIELDS} fields`;
  }
  const method: unknown = header[RequestHeader.METHOD];
  const deadlineMs: unknown = header[RequestHeader.DEADLINE_MS];
  const business: unknown = header[RequestHeader.BUSINESS];
  const user: unknown = header[RequestHeader.USER];
  const traceId: unknown = header[RequestHeader.TRACE_ID];
  const metadata: unknown = header[RequestHeader.METADATA];
  if (typeof method !== 'string' || method.length === 0) return 'method must be a non-empty string';
  if (typeof deadlineMs !== 'number' || !(deadlineMs <= MAX_DEADLINE_MS) || !Number.isInteger(deadlineMs)) {
    return 'deadline must be an integer number of milliseconds';
  }
  if (!isBusinessPriority(business)) return 'business priority out of range';
  if (!isUserPriority(user)) return 'user priority out of range';
  if (typeof traceId !== 'string' || traceId.length > MAX_TRACE_ID_LENGTH) return 'trace id must be a short string';
  if (metadata !== null) {
    if (typeof metadata !== 'object' || Array.isArray(metadata)) return 'metadata must be a map of strings';
    for (const key in metadata) {
      if (typeof (metadata as Record<string, unknown>)[key] !== 'string') return `metadata "${key}" must be a string`;
    }
  }
  return null;
}

/** Where the bytes of the string `stringAt` last read start. */
let stringStart = 0;

/** Reads the fixstr or str8 at `at`: sets `stringStart` and returns the end of its bytes; -1 for anything else. */
function stringAt(buf: Buffer, at: number): number {
  const type = buf[at];
  if (type === undefined) return -1;
  if ((type & 0xe0) === FIXSTR) {
    stringStart = at + 1;
    return stringStart + (type & 0x1f);
  }
  if (type !== STR8 || at + 1 >= buf.length) return -1;
  stringStart = at + 2;
  return stringStart + buf[at + 1]!;
}
