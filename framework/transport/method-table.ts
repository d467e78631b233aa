import type { RequestHeaderReader } from '../protocol/index.ts';
import type { MethodEntry } from './server-call.ts';

/** A registered method beside its path's UTF-8 bytes. */
interface ByteKey {
  readonly bytes: Buffer;
  readonly entry: MethodEntry;
}

/**
 * The server's methods by path. A request's method is found from the bytes of its header when
 * the header was read in place, so no string is made for it; a header msgpackr decoded is
 * looked up by its string.
 */
export class MethodTable {
  private readonly byPath = new Map<string, MethodEntry>();
  /** By the byte length of the path: a lookup compares only paths of the right length. */
  private readonly byByteLength: ByteKey[][] = [];

  has(path: string): boolean {
    return this.byPath.has(path);
  }

  add(entry: MethodEntry): void {
    const path = entry.descriptor.path;
    this.byPath.set(path, entry);
    const bytes = Buffer.from(path);
    // A path with a lone surrogate has no UTF-8 form: its bytes would name it where its decoded
    // string (U+FFFD in its place) would not. Only the string lookup sees it.
    if (bytes.toString() !== path) return;
    (this.byByteLength[bytes.length] ??= []).push({ bytes, entry });
  }

  /** The method a request header names, or undefined. */
  find(header: RequestHeaderReader): MethodEntry | undefined {
    if (header.methodStart >= 0) {
      const found = this.findBytes(header.buf, header.methodStart, header.methodEnd);
      if (found !== undefined) return found;
    }
    // Also when the bytes miss: bytes that are not UTF-8 decode with U+FFFD in their place, and
    // may then name a path, as they would had msgpackr decoded the header.
    return this.byPath.get(header.method);
  }

  private findBytes(buf: Buffer, start: number, end: number): MethodEntry | undefined {
    const candidates = this.byByteLength[end - start];
    if (candidates === undefined) return undefined;
    for (let c = 0; c < candidates.length; c++) {
      const { bytes, entry } = candidates[c]!;
      // From the end: paths of one service share their beginning.
      let i = bytes.length - 1;
      while (i >= 0 && bytes[i] === buf[start + i]) i--;
      if (i < 0) return entry;
    }
    return undefined;
  }
}
