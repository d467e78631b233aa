import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { protocol } from 'corpc/internal';

const { packr, unpackAt } = protocol;

function decode(bytes: Buffer): { value?: unknown; error?: Error } {
  try {
    return { value: unpackAt(bytes, 0, bytes.length) };
  } catch (error) {
    return { error: error as Error };
  }
}

test('a __proto__ key in a map cannot reach any prototype', () => {
  const bytes = Buffer.from(
    packr.pack(
      new Map<string, unknown>([
        ['__proto__', { polluted: true }],
        ['constructor', { prototype: { polluted: true } }],
      ]),
    ),
  );
  const { value } = decode(bytes);
  assert.is(Object.getPrototypeOf(value), Object.prototype);
  assert.is((value as { polluted?: unknown }).polluted, undefined);
  assert.is(({} as { polluted?: unknown }).polluted, undefined);
});

test('huge declared lengths fail without allocating them; deep nesting fails with an error, and the decoder still works after', () => {
  const before = process.memoryUsage().arrayBuffers;
  for (const marker of [0xdd, 0xdf, 0xdb, 0xc6, 0xc9]) {
    const bytes = Buffer.from([marker, 0xff, 0xff, 0xff, 0xf0, 1, 2, 3]);
    assert.ok(decode(bytes).error, `marker ${marker.toString(16)} is rejected`);
  }
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024, 'no 4 GiB allocation');
  assert.ok(decode(Buffer.alloc(100_000, 0x91)).error, 'nesting 100k deep is an error, not a crash');
  assert.equal(decode(Buffer.from(packr.pack({ after: [1, 2] }))).value, { after: [1, 2] });
});

test('ext types in the wire data decode to inert values or errors, and never to functions', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 40 }), (type, payload) => {
      const bytes = Buffer.concat([Buffer.from([0xc7, payload.length, type]), payload]);
      const { value } = decode(bytes);
      assert.is.not(typeof value, 'function');
      assert.is(({} as { polluted?: unknown }).polluted, undefined);
    }),
    { numRuns: 3000 },
  );
});

test.run();
