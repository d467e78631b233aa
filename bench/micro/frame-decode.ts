/**
 * Decoding frames from a chunk: splitting (FrameDecoder), reading the request header (in place by
 * RequestHeaderReader, beside msgpackr decoding it) and the body (unpackAt).
 */
import { protocol } from 'corpc/internal';
import { measure, type MicroResult } from './measure.ts';

const { FrameDecoder, FrameKind, PREFACE, RequestHeaderReader, packr, unpackAt } = protocol;

/** A complete REQUEST frame (also used by admission.ts to drive a server with raw frames). */
export function requestFrame(
  id: number,
  headerFields: unknown[] = ['Echo/echo', 500, 63, 42, 'a1b2c3d4e5f60', null],
  request: unknown = { text: 'corpc-bench-echo-payload-32bytes' },
): Buffer {
  const header = packr.pack(headerFields);
  const body = packr.pack(request);
  const frame = Buffer.alloc(4 + 5 + 2 + header.length + body.length);
  frame.writeUInt32BE(frame.length - 4, 0);
  frame[4] = FrameKind.REQUEST;
  frame.writeUInt32BE(id, 5);
  frame.writeUInt16BE(header.length, 9);
  header.copy(frame, 11);
  body.copy(frame, 11 + header.length);
  return frame;
}

export async function main(): Promise<MicroResult[]> {
  const frames = 64;
  const chunk = Buffer.concat(Array.from({ length: frames }, (_, i) => requestFrame(i)));
  const one = requestFrame(1);
  const headerEnd = 11 + one.readUInt16BE(9);
  let seen = 0;
  const decoder = new FrameDecoder(
    {
      onFrame: () => void seen++,
      onPreface: () => undefined,
      onProtocolError: (e) => {
        throw e;
      },
    },
    4 * 1024 * 1024,
  );
  decoder.push(PREFACE);
  const header = new RequestHeaderReader();
  const split = await measure(`frame split: ${frames} request frames per chunk`, () => decoder.push(chunk));
  return [
    { name: 'frame split: per frame', nsPerOp: split.nsPerOp / frames },
    await measure('request header read in place (RequestHeaderReader, no string)', () =>
      header.read(one, 11, headerEnd),
    ),
    await measure(
      '… and its trace id decoded (what an admitted request adds)',
      () => header.read(one, 11, headerEnd) ?? header.traceId,
    ),
    await measure('request header decoded by msgpackr + checked (before)', () => header.decode(one, 11, headerEnd)),
    await measure('32-byte body decode (unpackAt, in place)', () => unpackAt(one, headerEnd, one.length)),
  ];
}
