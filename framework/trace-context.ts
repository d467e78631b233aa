/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` and `tracestate`
 * values a trace is carried with between processes. corpc carries them as request metadata under
 * these same keys; the HTTP entry takes them from HTTP headers of the same names. Parsing is
 * strict, as the specification asks: a malformed `traceparent` is ignored, never half-used.
 */

export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

/** The longest `tracestate` carried (the specification's 32 members of at most 256 bytes fit; longer ones are dropped). */
const MAX_TRACESTATE_LENGTH = 8192;

export interface TraceParent {
  /** 32 lowercase hex digits, not all zero. */
  readonly traceId: string;
  /** The caller's span: 16 lowercase hex digits, not all zero. */
  readonly spanId: string;
  /** Trace flags; bit 0 is "sampled". */
  readonly flags: number;
}

// Version 00 is exactly these four fields; a later version may append fields after a dash.
const TRACEPARENT_FORMAT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZEROS = /^0+$/;
const TRACESTATE_FORMAT = /^[\x20-\x7e]*$/;

/** The trace parent of a `traceparent` value, or null when there is none or it is malformed. */
export function parseTraceParent(value: unknown): TraceParent | null {
  if (typeof value !== 'string') return null;
  const match = TRACEPARENT_FORMAT.exec(value.trim());
  if (match === null) return null;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  if (ALL_ZEROS.test(traceId) || ALL_ZEROS.test(spanId)) return null;
  return { traceId, spanId, flags: Number.parseInt(flags, 16) };
}

/** A version-00 `traceparent` value. */
export function formatTraceParent(traceId: string, spanId: string, flags: number): string {
  return `00-${traceId}-${spanId}-${(flags & 0xff).toString(16).padStart(2, '0')}`;
}

/** A `tracestate` value worth passing on (printable, not absurdly long), or null. */
export function parseTraceState(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed !== '' && trimmed.length <= MAX_TRACESTATE_LENGTH && TRACESTATE_FORMAT.test(trimmed) ? trimmed : null;
}
