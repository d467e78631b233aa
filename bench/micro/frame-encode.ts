/** Encoding frames into the connection's slab: a request (header + body) and a response. */
import { Writable } from 'node:stream';
import type { Socket } from 'node:net';
import { protocol } from 'corpc/internal';
import { measure, type MicroResult } from './measure.ts';

export async function main(): Promise<MicroResult[]> {
  // A socket stand-in that takes every write: only the encoding is measured.
  const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() }) as unknown as Socket;
  const writer = new protocol.FrameWriter(sink, null);
  const header = ['Echo/echo', 500, 63, 42, 'a1b2c3d4e5f60', null];
  const body = { text: 'corpc-bench-echo-payload-32bytes' };
  const bodyBytes = protocol.packr.pack(body);
  return [
    await measure('frame encode: request (header + 32-byte body), 64 a flush', (i) => {
      writer.request(i, header, body);
      if ((i & 63) === 0) writer.flush();
    }),
    // 1024 requests (~77 KB) in one tick overflow the 64 KiB slab: shows what growing it costs.
    await measure('frame encode: request, 1024 a flush (batch > slab)', (i) => {
      writer.request(i, header, body);
      if ((i & 1023) === 0) writer.flush();
    }),
    await measure('frame encode: response (pre-encoded body)', (i) => {
      writer.response(i, 8191, bodyBytes);
      if ((i & 63) === 0) writer.flush();
    }),
  ];
}
