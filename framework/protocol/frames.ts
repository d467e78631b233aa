import { Packr, Unpackr } from 'msgpackr';

/**
 * The corpc wire format, version 2 (version 1 without the stream frames).
 *
 * A connection starts with an 8-byte preface from each side: `C O R P C 0x00 <version> 0x00`,
 * the highest version the side speaks. A decoder accepts any version from 1 to its own and the
 * connection speaks the lower of the two: a version-2 server serves version-1 (unary-only)
 * clients, and a stream is never opened on a connection that negotiated version 1. (A version-1
 * endpoint refuses a version-2 preface with a GOAWAY naming both versions.)
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
 * Streams (version 2; docs/streaming.md). A stream shares the id space of requests:
 *
 *   OPEN      as REQUEST; the body is the request of a server stream, nothing for a client or
 *             bidirectional stream. Admitted or rejected like a REQUEST.
 *   MESSAGE   u16 admission level (the server's; a client sends ADMIT_ALL), then one msgpack message
 *   CREDIT    u32 count: the receiver of the stream's messages lets their sender send `count` more
 *             message bytes (MessagePack bodies; the sender may overshoot by its last message)
 *   END       nothing: the client sends no more messages (half-close)
 *
 * The server ends a stream with RESPONSE (OK; the body is a client stream's reply, else nothing)
 * or ERROR; the client ends it early with CANCEL. Each side grants its receive window with a
 * CREDIT frame when the stream starts (the client right after OPEN, the server when the handler
 * starts) and again as its consumer takes messages; a MESSAGE past the credit ends the stream.
 *
 * The fixed fields come before any msgpack so a frame can be routed, and a request admitted or
 * rejected, without decoding its body. The admission level is the compound level
 * `B * 128 + U` (see priority.ts) that the sender currently admits.
 */

export const PROTOCOL_VERSION = 2;
/** The first version with stream frames. */
export const STREAMS_VERSION = 2;
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
  OPEN: 8,
  MESSAGE: 9,
  CREDIT: 10,
  END: 11,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** Bytes of the length prefix. */
export const LENGTH_BYTES = 4;
/**
 * kind + id: the part every frame has after its length. Offsets below count from the kind byte
 * (the `start` a decoded frame is handed with), so a kind's own fields start at this offset: a
 * REQUEST's u16 header length, a RESPONSE's or ERROR's u16 admission level, a GOAWAY's msgpack.
 */
export const FRAME_BASE_BYTES = 5;
/** Bytes of a REQUEST frame before its header (kind, id, u16 header length): the header starts at this offset. */
export const REQUEST_FIXED_BYTES = FRAME_BASE_BYTES + 2;
/** Bytes of a RESPONSE or ERROR frame before its body (kind, id, u16 admission level): the body starts at this offset. */
export const ANSWER_FIXED_BYTES = FRAME_BASE_BYTES + 2;
/** A CREDIT frame: kind, id, u32 count of message bytes. */
export const CREDIT_FRAME_BYTES = FRAME_BASE_BYTES + 4;
/** The largest frame kind number. */
export const MAX_FRAME_KIND = FrameKind.END;
/** The largest frame kind of version 1: a peer that negotiated it may send no stream frame. */
export const MAX_V1_FRAME_KIND = FrameKind.GOAWAY;

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
    return `the peer speaks corpc protocol version ${bytes[6]}, this endpoint speaks versions 1 to ${PROTOCOL_VERSION}`;
  }
  return `the peer did not start with the corpc preface (got ${bytes.toString('hex')})`;
}

/** The protocol version a valid preface names, or -1 for anything this endpoint does not speak. */
export function prefaceVersion(bytes: Buffer, start: number): number {
  for (let i = 0; i < 6; i++) if (bytes[start + i] !== PREFACE[i]) return -1;
  const version = bytes[start + 6]!;
  return version >= 1 && version <= PROTOCOL_VERSION && bytes[start + 7] === 0 ? version : -1;
}
