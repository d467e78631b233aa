import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { protocol } from 'corpc/internal';

const { RequestHeaderReader, packr, requestHeaderLength, writeRequestHeader } = protocol;

const uint = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 0xffffffff }));
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ minLength: 200, maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
const header = fc.tuple(
  text,
  fc.oneof(uint, fc.integer({ min: -5, max: -1 }), fc.double()),
  uint,
  uint,
  text,
  fc.oneof(fc.constant(null), fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }))),
);

test('the hand-written header encoding is byte for byte what msgpackr writes, or it steps aside', () => {
  fc.assert(
    fc.property(header, (fields) => {
      const length = requestHeaderLength(fields);
      if (length === -1) return;
      const written = Buffer.alloc(length + 3);
      assert.is(writeRequestHeader(fields, written, 3), 3 + length);
      assert.equal(written.subarray(3), Buffer.from(packr.pack(fields)));
    }),
    { numRuns: 2000 },
  );
  // The shapes a corpc client sends do take the hand-written path.
  assert.is.not(requestHeaderLength(['Echo/echo', 500, 10, 42, 'k3x9-1f', null]), -1);
  assert.is.not(requestHeaderLength(['a'.repeat(200), 0x7fffffff, 63, 127, 't'.repeat(128), null]), -1);
});

/** What the client sends: ASCII, a deadline in range, priorities in range, no metadata. */
const ascii = (min: number, max: number) =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    minLength: min,
    maxLength: max,
  });
const usualHeader = fc.tuple(
  ascii(1, 60),
  fc.integer({ min: 0, max: 0x7fffffff }),
  fc.integer({ min: 0, max: 63 }),
  fc.integer({ min: 0, max: 127 }),
  ascii(0, 140),
  fc.constant(null),
);

/** Near the usual shape, on both sides of each of its limits. */
const nearlyUsualHeader = fc.tuple(
  ascii(0, 3),
  fc.oneof(fc.integer({ min: 0x7ffffff0, max: 0x8000000f }), fc.integer({ min: -3, max: 3 })),
  fc.integer({ min: 60, max: 66 }),
  fc.integer({ min: 125, max: 130 }),
  ascii(126, 130),
  fc.constant(null),
);

/** `bytes` inside other bytes, as a header sits inside a chunk of frames. */
function embedded(bytes: Uint8Array, before: number[], after: number[]): { buf: Buffer; start: number; end: number } {
  return { buf: Buffer.from([...before, ...bytes, ...after]), start: before.length, end: before.length + bytes.length };
}

type Reader = InstanceType<typeof RequestHeaderReader>;
const fieldsOf = (reader: Reader) => [
  reader.method,
  reader.deadlineMs,
  reader.business,
  reader.user,
  reader.traceId,
  reader.metadata,
];

/**
 * Reads with both paths (`reader`, perhaps reused, and a fresh msgpackr decode): whatever the
 * in-place path accepts, msgpackr decodes to the same fields. Returns whether it was read in place.
 */
function readsAlike(buf: Buffer, start: number, end: number, reader = new RequestHeaderReader()): boolean {
  const decoder = new RequestHeaderReader();
  const problem = reader.read(buf, start, end);
  assert.is(problem, decoder.decode(buf, start, end));
  if (problem !== null) return false;
  assert.equal(fieldsOf(reader), fieldsOf(decoder));
  // The byte range the server looks the method up by is this header's method.
  if (reader.methodStart >= 0) assert.is(buf.toString('utf8', reader.methodStart, reader.methodEnd), reader.method);
  return reader.methodStart >= 0;
}

const noise = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 6 });

test('the server reads the usual header in place, to exactly what msgpackr decodes', () => {
  let inPlace = 0;
  fc.assert(
    fc.property(usualHeader, noise, noise, (fields, before, after) => {
      const { buf, start, end } = embedded(packr.pack(fields), before, after);
      if (readsAlike(buf, start, end)) inPlace++;
    }),
    { numRuns: 2000 },
  );
  // Every header the client writes by hand takes the in-place path.
  assert.is(inPlace, 2000);
});

test('any other header, or a damaged one, gets the same answer from both paths', () => {
  fc.assert(
    fc.property(fc.oneof(header, usualHeader, nearlyUsualHeader), noise, noise, (fields, before, after) => {
      const { buf, start, end } = embedded(packr.pack(fields), before, after);
      readsAlike(buf, start, end);
    }),
    { numRuns: 2000 },
  );
  // Damage: bytes changed, or the header cut short or run on into the bytes after it.
  fc.assert(
    fc.property(
      usualHeader,
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: -3, max: 3 }),
      noise,
      (fields, at, value, stretch, after) => {
        const { buf, start, end } = embedded(packr.pack(fields), [], after);
        buf[at % end] = value;
        readsAlike(buf, start, Math.max(start, Math.min(buf.length, end + stretch)));
      },
    ),
    { numRuns: 4000 },
  );
});

test('a reader reused across requests carries nothing from one header into the next', () => {
  const withMetadata = fc.tuple(
    ascii(1, 20),
    fc.nat(1000),
    fc.nat(63),
    fc.nat(127),
    ascii(0, 20),
    fc.dictionary(ascii(1, 5), ascii(0, 5)),
  );
  const anyHeader = fc.oneof(
    header,
    usualHeader,
    nearlyUsualHeader,
    withMetadata,
    fc.constant(Array.from({ length: 16 }, () => 0)),
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(anyHeader, noise), { minLength: 2, maxLength: 8 }), (sequence) => {
      const reader = new RequestHeaderReader();
      for (const [fields, before] of sequence) {
        const { buf, start, end } = embedded(packr.pack(fields), before, []);
        readsAlike(buf, start, end, reader);
      }
    }),
    { numRuns: 1000 },
  );
});

test('str8 strings shorter than 32 bytes (which msgpackr would write as fixstr) are read in place too', () => {
  const method = Buffer.from('Echo/echo');
  const traceId = Buffer.from('t-1');
  const bytes = Buffer.from([
    0x96,
    0xd9,
    method.length,
    ...method,
    0xcd,
    0x01,
    0xf4,
    10,
    42,
    0xd9,
    traceId.length,
    ...traceId,
    0xc0,
  ]);
  const reader = new RequestHeaderReader();
  assert.ok(readsAlike(bytes, 0, bytes.length, reader));
  assert.equal(fieldsOf(reader), ['Echo/echo', 500, 10, 42, 't-1', null]);
});

test.run();
