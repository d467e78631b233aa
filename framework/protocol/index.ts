export * from './frames.ts';
export * from './decoder.ts';
export * from './writer.ts';
export * from './request-header.ts';

import { unpackr } from './frames.ts';

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
