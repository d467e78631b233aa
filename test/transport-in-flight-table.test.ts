import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InFlightTable } from 'corpc/internal';

const entry = (id: number) => ({ id });

test('holds calls by id across a sliding window of ids, and forgets removed ones', () => {
  const table = new InFlightTable<{ id: number }>();
  const inFlight: { id: number }[] = [];
  // 128 in flight, ids handed out in sequence: each answered call makes room for the next.
  for (let id = 1; id <= 10_000; id++) {
    const call = entry(id);
    table.add(call);
    inFlight.push(call);
    if (inFlight.length > 128) table.remove(inFlight.shift()!);
  }
  assert.is(table.size, 128);
  assert.is(table.get(10_000), inFlight.at(-1));
  assert.is(table.get(9_873), inFlight[0]);
  assert.is(table.get(9_872), undefined);
  assert.not.ok(table.has(1));
});

test('a call that outlives a table’s worth of later ids is kept, whatever the ids', () => {
  const table = new InFlightTable<{ id: number }>();
  const slow = entry(7);
  table.add(slow);
  // Ids that land on the slow call's slot at every table size, up to and past the largest table.
  const colliding = [7 + 64, 7 + 128, 7 + 65_536, 7 + 2 * 65_536, 7 + 3 * 65_536].map(entry);
  for (const call of colliding) table.add(call);
  assert.is(table.size, 6);
  assert.is(table.get(7), slow);
  for (const call of colliding) assert.is(table.get(call.id), call);
  // Removing takes exactly the entry given, from wherever it lives.
  table.remove(colliding[3]!);
  table.remove(entry(7 + 3 * 65_536)); // same id, another object: not the one held
  assert.is(table.size, 5);
  assert.is(table.get(7 + 2 * 65_536), undefined);
  assert.is(table.get(7 + 3 * 65_536), colliding[4]);
  assert.equal(new Set(table.values()), new Set([slow, ...colliding.filter((_, i) => i !== 3)]));
});

test('ids chosen to collide cannot make the table outgrow the calls in flight', () => {
  const table = new InFlightTable<{ id: number }>();
  table.add(entry(1));
  table.add(entry(1 + 65_536));
  table.add(entry(1 + 2 ** 20));
  assert.is(table.size, 3);
  assert.ok(table.capacity <= 64, `capacity ${table.capacity}`);
  assert.is(table.get(1 + 2 ** 20)?.id, 1 + 2 ** 20);
  // Many calls in flight in sequence: the table grows with them.
  for (let id = 2; id < 2_000; id++) table.add(entry(id));
  assert.ok(table.capacity >= 2_000 && table.capacity <= 4 * 2_002, `capacity ${table.capacity}`);
  assert.is(table.size, 2_001);
});

test.run();
