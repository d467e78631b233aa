import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RpcError } from 'corpc';
import { validation } from 'corpc/internal';
import { decodeItem, decodeOrder } from './fixtures/codegen/generated/shop.ts';

const { InvalidField, decoder, fail, fields, int64, intKey, invalid, isBytes, isList, map, nest, put } = validation;

/** What `run` threw, which must be an InvalidField. */
function invalidField(run: () => unknown): InstanceType<typeof InvalidField> {
  try {
    run();
  } catch (error) {
    assert.instance(error, InvalidField);
    return error as InstanceType<typeof InvalidField>;
  }
  throw new Error('nothing was thrown');
}

/** What `run` threw, which must be an RpcError. */
function rpcError(run: () => unknown): RpcError {
  try {
    run();
  } catch (error) {
    assert.instance(error, RpcError);
    return error as RpcError;
  }
  throw new Error('nothing was thrown');
}

test('fail names what was expected and describes what came, briefly', () => {
  const got = (value: unknown): string => invalidField(() => fail('f', 'a string', value)).problem;
  assert.is(got(3), 'must be a string, got 3');
  assert.is(got('abc'), 'must be a string, got "abc"');
  assert.is(got('x'.repeat(40)), `must be a string, got a string ("${'x'.repeat(32)}…")`);
  assert.is(got(7n), 'must be a string, got 7n');
  assert.is(got(null), 'must be a string, got null');
  assert.is(got(undefined), 'must be a string, got undefined');
  assert.is(got(false), 'must be a string, got false');
  assert.is(got([1]), 'must be a string, got a list');
  assert.is(got(new Uint8Array(2)), 'must be a string, got bytes');
  assert.is(got({ a: 1 }), 'must be a string, got an object');
  assert.is(
    got(() => 1),
    'must be a string, got function',
  );
  const error = invalidField(() => invalid('delivery', 'has more than one of its members set'));
  assert.equal(
    [error.path, error.problem, error.message],
    ['delivery', 'has more than one of its members set', 'has more than one of its members set'],
  );
});

test('nest prefixes the path of an InvalidField as it unwinds and rethrows anything else untouched', () => {
  const unwound = (path: string, ...segments: string[]): string => {
    let error: unknown = new InvalidField(path, 'p');
    for (const segment of segments) {
      try {
        nest(error, segment);
      } catch (caught) {
        error = caught;
      }
    }
    return (error as InstanceType<typeof InvalidField>).path;
  };
  assert.is(unwound('', 'price'), 'price');
  assert.is(unwound('units', 'price', 'items[1]'), 'items[1].price.units');
  assert.is(unwound('["k"]', 'byName'), 'byName["k"]');
  const other = new TypeError('not a validation failure');
  try {
    nest(other, 'price');
  } catch (caught) {
    assert.is(caught, other);
  }
});

test('fields and map accept maps only; an absent body is a message of defaults', () => {
  assert.equal(fields(undefined), {});
  assert.equal(fields(null), {});
  assert.ok(Object.isFrozen(fields(undefined)));
  const body = { a: 1 };
  assert.is(fields(body), body);
  assert.is(map(body, 'm'), body);
  for (const bad of ['s', 1, [], new Uint8Array(1)]) {
    assert.equal(
      [invalidField(() => fields(bad)).path, invalidField(() => fields(bad)).problem.startsWith('must be an object')],
      ['', true],
    );
    assert.equal(
      [invalidField(() => map(bad, 'm')).path, invalidField(() => map(bad, 'm')).problem.startsWith('must be a map')],
      ['m', true],
    );
  }
  assert.is(invalidField(() => map(null, 'm')).problem, 'must be a map, got null');
});

test('small checks: lists, bytes, 64-bit integers in the safe range, canonical integer keys', () => {
  assert.equal(
    [isList([]), isList({ length: 0 }), isBytes(new Uint8Array(0)), isBytes(Buffer.alloc(1)), isBytes([1])],
    [true, false, true, true, false],
  );
  assert.is(validation.emptyBytes().length, 0);
  assert.is.not(validation.emptyBytes(), validation.emptyBytes());
  const max = Number.MAX_SAFE_INTEGER;
  assert.equal(
    [int64(max, false), int64(-max, false), int64(max + 1, false), int64(1.5, false), int64('1', false)],
    [max, -max, undefined, undefined, undefined],
  );
  assert.equal([int64(-1, true), int64(0, true), int64(-1n, true), int64(0n, true)], [undefined, 0, undefined, 0]);
  assert.equal(
    [
      int64(BigInt(max), false),
      int64(-BigInt(max), false),
      int64(BigInt(max) + 1n, false),
      int64(-BigInt(max) - 1n, false),
    ],
    [max, -max, undefined, undefined],
  );
  assert.equal(
    ['7', '-7', '0'].map((k) => intKey(k, -10, 10)),
    [true, true, true],
  );
  assert.equal(
    ['', '07', '7.0', '1e1', ' 7', '11', '-11', 'x'].map((k) => intKey(k, -10, 10)),
    [false, false, false, false, false, false, false, false],
  );
});

test('put stores every key as an own entry, __proto__ included, without touching the prototype', () => {
  const target: { [key: string]: number } = {};
  put(target, 'a', 1);
  put(target, '__proto__', 2);
  assert.equal(Object.keys(target), ['a', '__proto__']);
  assert.is(Object.getPrototypeOf(target), Object.prototype);
  assert.is(Object.getOwnPropertyDescriptor(target, '__proto__')?.value, 2);
});

test('decoder turns a bad field into INVALID_ARGUMENT for a request and INTERNAL for a response, naming method and path', () => {
  const request = decoder('shop.Catalog/PlaceOrder', 'request', decodeOrder);
  const response = decoder('shop.Catalog/GetItem', 'response', decodeItem);
  const bad = rpcError(() => request({ items: [{}, { price: { units: 'ten' } }] }));
  assert.equal([bad.code, bad.reason], ['INVALID_ARGUMENT', 'invalid_request']);
  assert.is(
    bad.message,
    'shop.Catalog/PlaceOrder: field "items[1].price.units" must be an integer in -(2^53-1)..2^53-1, got "ten"',
  );
  const whole = rpcError(() => request([]));
  assert.is(whole.message, 'shop.Catalog/PlaceOrder: the request must be an object, got a list');
  const malformed = rpcError(() => response({ reviews: [{ stars: 'five' }] }));
  assert.equal([malformed.code, malformed.reason], ['INTERNAL', 'invalid_response']);
  assert.is(
    malformed.message,
    'shop.Catalog/GetItem: malformed response: field "reviews[0].stars" must be an integer in -2147483648..2147483647, got "five"',
  );
  assert.equal(request({ id: 3 }).id, 3);
});

test('decoder answers a body nested too deeply to decode, and rethrows errors that are not about the body', () => {
  let deep: { parent?: unknown } = {};
  for (let i = 0; i < 200_000; i++) deep = { parent: deep };
  const tooDeep = rpcError(() => decoder('shop.Catalog/PlaceOrder', 'request', decodeOrder)(deep));
  assert.equal(
    [tooDeep.code, tooDeep.reason, tooDeep.message],
    ['INVALID_ARGUMENT', 'invalid_request', 'shop.Catalog/PlaceOrder: the request is nested too deeply'],
  );
  const bug = new TypeError('a bug in a decoder');
  try {
    decoder('x/y', 'response', () => {
      throw bug;
    })(1);
    assert.unreachable();
  } catch (error) {
    assert.is(error, bug);
  }
});

test.run();
