import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { protocol } from 'corpc/internal';

const { packr, requestHeaderLength, writeRequestHeader } = protocol;

const uint = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 0xffffffff }));
const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ minLength: 200, maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 20 }));
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

test.run();
