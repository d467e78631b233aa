import { Packr, Unpackr } from 'msgpackr';

/**
 * The corpc wire format, version 1.
 *
 * A connection starts with an 8-byte preface from each side: `C O R P C 0x00 <version> 0x00`.
 * Then frames, each:
 *
 *   u32 length            bytes after this field (big-endian), checked against maxFrameBytes
 *   u8  kind              FrameKind
 *   u32 id                request id (ping/pong: a nonce; goaway: the last request id seen)
 *   ...                   kind-specific, below
 *
 *   REQUEST   u16 headerLength, header = msgpack [method, deadlineMs, business, user, traceId, metadata|nil],
 *             then the body: one msgpack value, or nothing for `undefined`
 *   RESPONSE  u16 admission level, then the body (msgpack, or nothing for `undefined`)
 *   ERROR     u16 admission level, then msgpack [status, message, reason|nil]
 *   CANCEL    nothing
 *   PING/PONG nothing
 *   GOAWAY    msgpack [status, message]
 *
 * The fixed fields come before any msgpack so a frame can be routed, and a request admitted or
 * rejected, without decoding its body. The admission level is the compound level
 * `B * 128 + U` (see priority.ts) that the sender currently admits.
 */

export const PROTOCOL_VERSION = 1;
export const PREFACE = Buffer.from([0x43, 0x4f, 0x52, 0x50, 0x43, 0x00, PROTOCOL_VERSION, 0x00]);
export const PREFACE_BYTES = PREFACE.length;

export const FrameKind = {
  REQUEST: 1,
  RESPONSE: 2,
  ERROR: 3,
  CANCEL: 4,
  PING: 5,
  PONG: 6,
  GOAWAY: 7,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** Bytes of the length prefix. */
export const LENGTH_BYTES = 4;
/** kind + id: the part every frame has after its length. */
export const FRAME_BASE_BYTES = 5;
/** The largest frame kind number. */
export const MAX_FRAME_KIND = FrameKind.GOAWAY;

export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;

/**
 * One encoder and one decoder for the whole protocol, options fixed: plain MessagePack maps and
 * arrays (no record extension), so any MessagePack implementation can speak to corpc.
 */
export const packr = new Packr({ useRecords: false, moreTypes: false });
export const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

const window = { start: 0, end: 0 };

/**
 * Decodes the one MessagePack value that fills `buf[start, end)` exactly, in place: no slice, no
 * copy (msgpackr pays extra the first time it sees a new Buffer object). Throws on malformed
 * data or on bytes left over.
 */
export function unpackAt(buf: Buffer, start: number, end: number): unknown {
  window.start = start;
  window.end = end;
  return unpackr.unpack(buf, window);
}

/** The fields of a request header, in wire order. */
export const RequestHeader = {
  METHOD: 0,
  DEADLINE_MS: 1,
  BUSINESS: 2,
  USER: 3,
  TRACE_ID: 4,
  METADATA: 5,
} as const;
export const REQUEST_HEADER_FIELDS = 6;

export function describePreface(bytes: Buffer): string {
  const text = bytes.toString('latin1');
  if (/^(GET|POST|PUT|HEAD|DELETE|OPTIONS|PATCH) /.test(text) || text.startsWith('HTTP/')) {
    return 'the peer speaks HTTP, not corpc';
  }
  if (text.startsWith('PRI * HT')) return 'the peer speaks HTTP/2 (gRPC?), not corpc';
  if (bytes[0] === 0x16) return 'the peer started a TLS handshake, but this endpoint expects plain corpc';
  if (bytes.subarray(0, 6).equals(PREFACE.subarray(0, 6))) {
    return `the peer speaks corpc protocol version ${bytes[6]}, this endpoint speaks version ${PROTOCOL_VERSION}`;
  }
  return `the peer did not start with the corpc preface (got ${bytes.toString('hex')})`;
}
