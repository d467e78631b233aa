import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { RpcError, Status } from 'corpc';
import { protocol } from 'corpc/internal';
import { frame } from './fuzz/attacks.ts';

const { FrameDecoder, PREFACE } = protocol;
const MAX = 64 * 1024;

/** Records what a decoder hands over; checks the sink contract as it goes. */
class Recorder {
  frames: { kind: number; id: number; bytes: Buffer }[] = [];
  prefaces = 0;
  errors: RpcError[] = [];
  onFrame(kind: number, id: number, buf: Buffer, start: number, end: number): void {
    assert.is(this.errors.length, 0, 'no frame after a protocol error');
    assert.ok(kind >= 1 && kind <= protocol.MAX_FRAME_KIND, `kind ${kind} is known`);
    assert.ok(end - start >= protocol.FRAME_BASE_BYTES && end <= buf.length, 'the frame lies inside its buffer');
    this.frames.push({ kind, id, bytes: Buffer.from(buf.subarray(start, end)) });
  }
  onPreface(): void {
    this.prefaces++;
  }
  onProtocolError(error: RpcError): void {
    this.errors.push(error);
  }
}

/** Feeds `bytes` to a fresh decoder in chunks cut at `cuts`. */
function decode(bytes: Buffer, cuts: number[]): Recorder {
  const recorder = new Recorder();
  const decoder = new FrameDecoder(recorder, MAX);
  let from = 0;
  for (const cut of [...cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b), bytes.length]) {
    if (cut > from) decoder.push(bytes.subarray(from, cut));
    from = Math.max(from, cut);
  }
  return recorder;
}

const chunking = fc.array(fc.nat(), { maxLength: 8 });
const validFrame = fc
  .tuple(
    fc.integer({ min: 1, max: protocol.MAX_FRAME_KIND }),
    fc.integer({ min: 0, max: 0xffffffff }),
    fc.uint8Array({ maxLength: 300 }),
  )
  .map(([kind, id, fields]) => ({ kind, id, bytes: frame(kind, id, fields) }));

test('random bytes never throw: the decoder reports at most one protocol error and then stays quiet', () => {
  fc.assert(
    fc.property(fc.boolean(), fc.uint8Array({ maxLength: 2048 }), chunking, (withPreface, random, cuts) => {
      const bytes = withPreface ? Buffer.concat([PREFACE, random]) : Buffer.from(random);
      const recorder = decode(bytes, cuts);
      assert.ok(recorder.errors.length <= 1);
      assert.ok(recorder.prefaces <= 1);
      for (const error of recorder.errors) {
        assert.instance(error, RpcError);
        assert.match(error.message, /^protocol error: /);
      }
    }),
    { numRuns: 2000 },
  );
});

test('valid frames come out the same however the stream is chunked', () => {
  fc.assert(
    fc.property(fc.array(validFrame, { maxLength: 12 }), chunking, (frames, cuts) => {
      const recorder = decode(Buffer.concat([PREFACE, ...frames.map((f) => f.bytes)]), cuts);
      assert.equal(recorder.errors, []);
      assert.is(recorder.prefaces, 1);
      assert.is(recorder.frames.length, frames.length);
      frames.forEach((f, i) => {
        assert.is(recorder.frames[i]!.kind, f.kind);
        assert.is(recorder.frames[i]!.id, f.id);
        assert.ok(recorder.frames[i]!.bytes.equals(f.bytes.subarray(4)));
      });
    }),
    { numRuns: 1000 },
  );
});

test('a declared length beyond the limit (up to 2^32-1) fails as soon as its 4 bytes arrive, before any body', () => {
  fc.assert(
    fc.property(fc.integer({ min: MAX + 1, max: 0xffffffff }), (length) => {
      const recorder = new Recorder();
      const decoder = new FrameDecoder(recorder, MAX);
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32BE(length, 0);
      decoder.push(Buffer.concat([PREFACE, prefix.subarray(0, 2)]));
      assert.is(recorder.errors.length, 0, 'half a length prefix is not an error yet');
      decoder.push(prefix.subarray(2));
      assert.is(recorder.errors.length, 1, 'rejected on the prefix alone');
      assert.is(recorder.errors[0]!.status, Status.RESOURCE_EXHAUSTED);
      assert.match(recorder.errors[0]!.message, `exceeds the limit of ${MAX} bytes (maxFrameBytes)`);
      assert.not.ok(decoder.midFrame, 'nothing is kept after the failure');
    }),
    { numRuns: 500 },
  );
});

test('lengths shorter than a frame header, unknown kinds and wrong prefaces are named in the error', () => {
  for (let length = 0; length < protocol.FRAME_BASE_BYTES; length++) {
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(length, 0);
    assert.match(
      decode(Buffer.concat([PREFACE, prefix, Buffer.alloc(8)]), []).errors[0]!.message,
      /shorter than a frame header/,
    );
  }
  fc.assert(
    fc.property(fc.integer({ min: protocol.MAX_FRAME_KIND + 1, max: 255 }), (kind) => {
      assert.match(
        decode(Buffer.concat([PREFACE, frame(kind, 1)]), []).errors[0]!.message,
        `unknown frame kind ${kind}`,
      );
    }),
  );
  assert.match(decode(frame(1, 1), []).errors[0]!.message, /did not start with the corpc preface/);
});

test.run();
