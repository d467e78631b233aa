import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RpcError } from 'corpc';
import { compile } from '../codegen/compile.ts';
import { Planner, decodeSlot, type Slot } from './fixtures/codegen/generated/schedule.ts';
import { rejection } from './helpers/servers.ts';
import { scopedTest } from './helpers/scope.ts';

function diagnostics(source: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'corpc-wkt-'));
  try {
    writeFileSync(join(dir, 'a.proto'), source);
    return compile([join(dir, 'a.proto')]).diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('google/protobuf timestamp, duration and empty are accepted when imported; others, or a use without the import, are errors', () => {
  assert.equal(
    diagnostics(`syntax = "proto3";
import "google/protobuf/timestamp.proto";
import "google/protobuf/empty.proto";
message A { google.protobuf.Timestamp at = 1; }
service S { rpc Ping(google.protobuf.Empty) returns (A); }`),
    [],
  );
  assert.equal(
    diagnostics(`syntax = "proto3";
import "google/protobuf/any.proto";
message A { google.protobuf.Duration d = 1; }
service S { rpc Get(google.protobuf.Duration) returns (A); }`),
    [
      '2:8 unsupported "google/protobuf/any.proto": of protobuf\'s well-known types, corpc has google/protobuf/timestamp.proto, google/protobuf/duration.proto, google/protobuf/empty.proto; declare the message you need',
      '3:13 unknown-type type \'google.protobuf.Duration\' is a well-known type: add import "google/protobuf/duration.proto";',
      '4:21 unknown-type type \'google.protobuf.Duration\' is a well-known type: add import "google/protobuf/duration.proto";',
    ],
  );
  assert.equal(
    diagnostics(`syntax = "proto3";
import "google/protobuf/duration.proto";
message A {}
service S { rpc Get(google.protobuf.Duration) returns (A); }`),
    ["4:21 wrong-kind an rpc takes and returns messages, not 'google.protobuf.Duration': wrap it in a message"],
  );
});

scopedTest(
  'Timestamp is a Date, Duration a number of ms, Empty {}: over a socket, defaults filled, both ways',
  async (t) => {
    const seen: Slot[] = [];
    const { target } = await t.serve(Planner, {
      book: (slot) => {
        seen.push(slot);
        return {
          title: slot.title,
          startsAt: new Date(slot.startsAt.getTime() + slot.length),
          reminders: slot.reminders,
        };
      },
      today: () => ({ slots: [{ title: 'standup' }] }),
      clear: () => ({}),
    });
    const client = t.client(Planner, target);
    const startsAt = new Date('2026-12-02T09:00:00.250Z');
    const booked = await client.book({
      title: 'review',
      startsAt,
      length: 90_000,
      reminders: [new Date(0)],
      buffers: { before: 5 },
    });
    assert.equal(seen[0], {
      title: 'review',
      startsAt,
      length: 90_000,
      cancelledAt: undefined,
      reminders: [new Date(0)],
      buffers: { before: 5 },
      marker: {},
    });
    assert.instance(booked.startsAt, Date);
    assert.is(booked.startsAt.toISOString(), '2026-12-02T09:01:30.250Z');
    assert.equal([booked.length, booked.cancelledAt, booked.buffers, booked.marker], [0, undefined, {}, {}]);
    const day = await client.today({});
    assert.equal(day.slots[0]!.startsAt, new Date(0));
    assert.equal(await client.clear({}), {});
  },
);

scopedTest('the decoders reject what is not a timestamp or a duration, naming the field', async (t) => {
  assert.equal(decodeSlot({ startsAt: '2026-12-02T10:00:00.5+01:00' }).startsAt, new Date('2026-12-02T09:00:00.500Z'));
  const { target } = await t.serve(Planner, { book: (slot) => slot, today: () => ({}), clear: () => ({}) });
  const client = t.client(Planner, target);
  const cases: [unknown, RegExp][] = [
    [
      { startsAt: 'tomorrow' },
      /field "startsAt" must be a timestamp \(a Date or an RFC 3339 string\) in 0001-01-01\.\.9999-12-31, got "tomorrow"/,
    ],
    [{ startsAt: 1_700_000_000 }, /field "startsAt" must be a timestamp/],
    [{ startsAt: new Date(Number.NaN) }, /field "startsAt" must be a timestamp .*got an invalid Date/],
    [
      { reminders: [new Date(0), new Date(300_000_000_000_000)] },
      /field "reminders\[1\]" must be a timestamp .*got the Date \+011476-/,
    ],
    [{ length: '5s' }, /field "length" must be a duration: a number of milliseconds within ±10000 years, got "5s"/],
    [{ buffers: { after: Number.POSITIVE_INFINITY } }, /field "buffers\["after"\]" must be a duration/],
    [{ marker: 3 }, /field "marker" must be an object, got 3/],
  ];
  for (const [body, pattern] of cases) {
    const error = (await rejection(client.channel.call(Planner.methods.book, body as Slot))) as RpcError;
    assert.is(error.code, 'INVALID_ARGUMENT', error.message);
    assert.match(error.message, pattern);
  }
});

test.run();
