import { RequestHeader, REQUEST_HEADER_FIELDS } from './frames.ts';

/**
 * The request header `[method, deadlineMs, business, user, traceId, metadata|nil]` (frames.ts),
 * written by hand on the client's hot path: byte for byte what msgpackr writes (a test holds the
 * two to it), at about half the cost (bench/micro/call-header.ts). The hand-written part covers
 * what a corpc client sends without metadata — ASCII strings under 256 bytes, unsigned integers;
 * any other header (non-ASCII text, metadata) is packed by msgpackr.
 *
 * Servers read headers with msgpackr: a hand-written reader was slower (msgpackr turns all the
 * strings of a header into JS strings with one native call).
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
