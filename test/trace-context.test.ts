import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatTraceParent, parseTraceParent, parseTraceState } from 'corpc/internal';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

test('a version-00 traceparent parses into trace id, parent span id and flags, and formats back', () => {
  const value = `00-${TRACE}-${SPAN}-01`;
  assert.equal(parseTraceParent(value), { traceId: TRACE, spanId: SPAN, flags: 1 });
  assert.is(formatTraceParent(TRACE, SPAN, 1), value);
  assert.equal(parseTraceParent(` 00-${TRACE}-${SPAN}-00 `), { traceId: TRACE, spanId: SPAN, flags: 0 });
});

test('a later version is read by its first four fields; malformed values are ignored whole', () => {
  assert.equal(parseTraceParent(`01-${TRACE}-${SPAN}-01-later-field`), { traceId: TRACE, spanId: SPAN, flags: 1 });
  for (const bad of [
    undefined,
    42,
    '',
    `00-${TRACE}-${SPAN}-01-extra`, // version 00 has exactly four fields
    `ff-${TRACE}-${SPAN}-01`, // version ff is invalid
    `00-${'0'.repeat(32)}-${SPAN}-01`, // all-zero trace id
    `00-${TRACE}-${'0'.repeat(16)}-01`, // all-zero parent id
    `00-${TRACE.toUpperCase()}-${SPAN}-01`, // hex is lowercase
    `00-${TRACE.slice(1)}-${SPAN}-01`,
    `00-${TRACE}-${SPAN}-1`,
  ]) {
    assert.is(parseTraceParent(bad), null, String(bad));
  }
});

test('tracestate is passed on when printable and of a sane length', () => {
  assert.is(parseTraceState('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'), 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
  assert.is(parseTraceState(''), null);
  assert.is(parseTraceState('a=\u0001'), null);
  assert.is(parseTraceState('x'.repeat(9000)), null);
  assert.is(parseTraceState(undefined), null);
});

test.run();
