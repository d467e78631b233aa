/**
 * Hostile inputs for a corpc server, as fast-check arbitraries, and a runner that throws one at a
 * live server and judges what came back. Shared by the property tests (test/security-*.test.ts)
 * and the time-boxed fuzzer (bench/fuzz.ts).
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { protocol } from 'corpc/internal';

const { FrameKind, PREFACE, packr } = protocol;

/** One attack: bytes to send, cut into chunks at these offsets. */
export interface Attack {
  name: string;
  bytes: Buffer;
  cuts: number[];
}

/** The frame size limit the fuzzed servers run with (a small one, so "huge" is cheap to try). */
export const FUZZ_MAX_FRAME_BYTES = 64 * 1024;

export function frame(kind: number, id: number, fields: Uint8Array = Buffer.alloc(0)): Buffer {
  const out = Buffer.alloc(9 + fields.length);
  out.writeUInt32BE(5 + fields.length, 0);
  out[4] = kind;
  out.writeUInt32BE(id >>> 0, 5);
  out.set(fields, 9);
  return out;
}

/** REQUEST fields from raw header and body bytes. */
export function requestFields(header: Uint8Array, body: Uint8Array = Buffer.alloc(0)): Buffer {
  const fields = Buffer.alloc(2 + header.length + body.length);
  fields.writeUInt16BE(Math.min(header.length, 0xffff), 0);
  fields.set(header, 2);
  fields.set(body, 2 + header.length);
  return fields;
}

function pack(value: unknown): Buffer {
  try {
    return Buffer.from(packr.pack(value));
  } catch {
    return Buffer.from([0xc0]);
  }
}

const validHeader = (): unknown[] => ['Echo/echo', 1000, 1, 1, 'fuzz-trace', null];

/** Raw MessagePack of the kinds a decoder must survive: extensions, huge declared lengths, deep nesting, odd keys. */
const hostileMsgpack: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  fc.anything({ maxDepth: 4 }).map(pack),
  // ext types (fixext 1..16, ext 8): Error 0x65, RegExp 0x78, Set 0x73, structured-clone pointers 0x69/0x70, bundles 0x62, dates -1
  fc
    .tuple(
      fc.constantFrom(0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xc7),
      fc.constantFrom(0x65, 0x78, 0x73, 0x69, 0x70, 0x62, 0x42, 0x74, 0xff, 0x00, 0x01),
      fc.uint8Array({ maxLength: 24 }),
    )
    .map(([marker, type, payload]) =>
      marker === 0xc7
        ? Buffer.from([marker, payload.length, type, ...payload])
        : Buffer.from([marker, type, ...payload]),
    ),
  fc.constantFrom(
    Buffer.from([0xd4, 0x65, 0x92, 0xa9, ...Buffer.from('__proto__'), 0xa1, 0x78]),
    Buffer.from([0xc7, 0x06, 0x78, 0x92, 0xa3, ...Buffer.from('(a+'), 0xa0]),
    pack(
      new Map<unknown, unknown>([
        ['__proto__', { polluted: true }],
        ['constructor', { prototype: 1 }],
      ]),
    ),
  ),
  // declared lengths far beyond the bytes present: array32, map32, str32, bin32, ext32
  fc
    .tuple(fc.constantFrom(0xdd, 0xdf, 0xdb, 0xc6, 0xc9), fc.integer({ min: 0x10000, max: 0xffffffff }))
    .map(([marker, length]) => {
      const out = Buffer.alloc(5);
      out[0] = marker;
      out.writeUInt32BE(length, 1);
      return out;
    }),
  // nesting far deeper than any stack: fixarray(1) or fixmap(1) repeated
  fc
    .tuple(fc.constantFrom(0x91, 0x81), fc.integer({ min: 1000, max: 20_000 }))
    .map(([marker, depth]) =>
      Buffer.alloc(
        depth * (marker === 0x81 ? 2 : 1),
        marker === 0x81 ? Buffer.from([0x81, 0xa0]) : Buffer.from([0x91]),
      ),
    ),
);

/** A header with one field replaced by something of any type. */
const wrongHeaderField: fc.Arbitrary<Buffer> = fc
  .tuple(fc.integer({ min: 0, max: 7 }), fc.anything({ maxDepth: 2 }))
  .map(([field, value]) => {
    const header = validHeader();
    if (field < 6) header[field] = value;
    else if (field === 6) header.push(value);
    else header.length = 5;
    return pack(header);
  });

const metadataAttack: fc.Arbitrary<Buffer> = fc
  .dictionary(
    fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom('__proto__', 'constructor', 'prototype', 'corpc-priority-sig'),
    ),
    fc.anything({ maxDepth: 1 }),
    { maxKeys: 6 },
  )
  .map((metadata) => {
    const header = validHeader();
    header[5] = new Map(Object.entries(metadata));
    return pack(header);
  });

const id = fc.integer({ min: 0, max: 0xffffffff });

/** One frame after a valid preface. */
const hostileFrame: fc.Arbitrary<Buffer> = fc.oneof(
  fc
    .tuple(id, fc.oneof(hostileMsgpack, wrongHeaderField, metadataAttack))
    .map(([i, header]) => frame(FrameKind.REQUEST, i, requestFields(header))),
  fc
    .tuple(id, hostileMsgpack)
    .map(([i, body]) => frame(FrameKind.REQUEST, i, requestFields(pack(validHeader()), body))),
  fc
    .tuple(id, fc.oneof(hostileMsgpack, fc.constant(pack(validHeader()))), fc.integer({ min: 0, max: 0xffff }))
    .map(([i, header, declared]) => {
      // a header length that disagrees with the header
      const fields = requestFields(header);
      fields.writeUInt16BE(declared, 0);
      return frame(FrameKind.REQUEST, i, fields);
    }),
  // every frame kind (known or not) with random fields, including the ones a client may not send
  fc
    .tuple(fc.integer({ min: 0, max: 255 }), id, fc.uint8Array({ maxLength: 32 }))
    .map(([kind, i, fields]) => frame(kind, i, fields)),
  // known kinds with fields too short for what the kind carries
  fc
    .tuple(fc.integer({ min: 1, max: 7 }), id, fc.uint8Array({ maxLength: 2 }))
    .map(([kind, i, fields]) => frame(kind, i, fields)),
  // a length prefix that lies: huge (beyond the limit, up to 2^32-1, "negative" as i32), or shorter than a frame header
  fc
    .tuple(
      fc.oneof(fc.integer({ min: FUZZ_MAX_FRAME_BYTES + 1, max: 0xffffffff }), fc.integer({ min: 0, max: 4 })),
      fc.uint8Array({ maxLength: 16 }),
    )
    .map(([length, tail]) => {
      const out = Buffer.alloc(4 + tail.length);
      out.writeUInt32BE(length, 0);
      out.set(tail, 4);
      return out;
    }),
  // a valid request, then cut short
  fc.tuple(id, fc.nat()).map(([i, cut]) => {
    const whole = frame(FrameKind.REQUEST, i, requestFields(pack(validHeader()), pack({ text: 'x' })));
    return whole.subarray(0, cut % whole.length);
  }),
  fc.tuple(id).map(([i]) => frame(FrameKind.REQUEST, i, requestFields(pack(validHeader()), pack({ text: 'ok' })))),
);

/** Everything: a preface (right, wrong, or none) and a few frames, chunked at random. */
export const attackArbitrary: fc.Arbitrary<Attack> = fc
  .tuple(
    fc.oneof(
      { weight: 8, arbitrary: fc.constant(PREFACE) },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 12 }).map((bytes) => Buffer.from(bytes)) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          Buffer.from('GET / HTTP/1.1\r\n\r\n'),
          Buffer.from('PRI * HTTP/2.0\r\n'),
          Buffer.from([0x16, 3, 1, 0, 0, 0, 0, 0]),
          Buffer.from([0x43, 0x4f, 0x52, 0x50, 0x43, 0, 9, 0]),
        ),
      },
    ),
    fc.array(hostileFrame, { minLength: 1, maxLength: 4 }),
    fc.array(fc.nat(), { maxLength: 4 }),
  )
  .map(([preface, frames, cuts]) => {
    const bytes = Buffer.concat([preface, ...frames]);
    return {
      name: 'attack',
      bytes,
      cuts: [...new Set(cuts.map((cut) => cut % Math.max(1, bytes.length)))].sort((a, b) => a - b),
    };
  });

/** What one attack led to. `finding` is set when the server misbehaved. */
export interface Outcome {
  closedByServer: boolean;
  goaway: string | null;
  answers: number;
  finding: string | null;
}

/** Messages a peer may see must not leak internals: stack frames, file paths, or causes. */
export function leaksInternals(message: string): boolean {
  return /\n\s+at |node_modules|\.ts:\d+|\/work\/|file:\/\//.test(message);
}

/**
 * Sends one attack to `port` and watches for `quietMs` (or until the server closes). A finding:
 * the connection closed without saying why (no GOAWAY after a preface), or a message leaked
 * internals. Waiting is not a finding: a half-sent frame is cut by the frame timeout.
 */
export function runAttack(port: number, attack: Attack, quietMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    let closedByUs = false;
    let settled = false;
    const finish = (closedByServer: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      closedByUs = true;
      socket.destroy();
      resolve(judge(received, closedByServer));
    };
    const timer = setTimeout(() => finish(false), quietMs);
    socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    socket.on('error', () => undefined);
    socket.on('close', () => finish(!closedByUs));
    socket.on('connect', () => {
      let from = 0;
      for (const cut of [...attack.cuts, attack.bytes.length]) {
        if (cut > from) socket.write(attack.bytes.subarray(from, cut));
        from = Math.max(from, cut);
      }
    });
  });
}

function judge(received: Buffer, closedByServer: boolean): Outcome {
  let goaway: string | null = null;
  let answers = 0;
  let finding: string | null = null;
  if (received.length >= PREFACE.length && !received.subarray(0, PREFACE.length).equals(PREFACE))
    finding = 'the server did not send its preface';
  let offset = PREFACE.length;
  while (offset + 9 <= received.length) {
    const length = received.readUInt32BE(offset);
    const kind = received[offset + 4]!;
    const end = offset + 4 + length;
    if (end > received.length) break;
    if (kind === FrameKind.GOAWAY || kind === FrameKind.ERROR) {
      const fieldsStart = offset + 9 + (kind === FrameKind.ERROR ? 2 : 0);
      const fields = protocol.unpackAt(received, fieldsStart, end) as unknown[];
      const message = String(fields[1]);
      if (kind === FrameKind.GOAWAY) goaway = message;
      else answers++;
      if (leaksInternals(message)) finding = `a message leaked internals: ${message}`;
    } else if (kind === FrameKind.RESPONSE) {
      answers++;
    }
    offset = end;
  }
  if (closedByServer && goaway === null && finding === null)
    finding = 'the server closed the connection without a GOAWAY saying why';
  return { closedByServer, goaway, answers, finding };
}

export interface FuzzReport {
  executions: number;
  /** Distinct findings, each with the first input (hex, cut to 200 bytes) that showed it. */
  findings: { finding: string; input: string }[];
  closedWithGoaway: number;
  answered: number;
}

export interface FuzzOptions {
  /** Stop after this many attacks… */
  runs?: number;
  /** …or after this long, whichever comes first. */
  seconds?: number;
  /** Attacks in flight at once. Default 8. */
  concurrency?: number;
  /** How long to watch each connection. Default 40 ms. */
  quietMs?: number;
  seed?: number;
  /** Run every `checkEvery` attacks: throws (a finding) if the server no longer serves good clients. */
  check?: () => Promise<void>;
  checkEvery?: number;
}

/** Throws attacks at the server on `port` until the budget runs out. */
export async function fuzz(port: number, options: FuzzOptions): Promise<FuzzReport> {
  const report: FuzzReport = { executions: 0, findings: [], closedWithGoaway: 0, answered: 0 };
  const seen = new Set<string>();
  const record = (finding: string, input: Buffer): void => {
    const key = finding.replace(/\d+/g, 'N');
    if (seen.has(key)) return;
    seen.add(key);
    report.findings.push({ finding, input: input.subarray(0, 200).toString('hex') });
  };
  const stopAt = options.seconds === undefined ? Infinity : Date.now() + options.seconds * 1000;
  const runs = options.runs ?? Infinity;
  const concurrency = options.concurrency ?? 8;
  const checkEvery = options.checkEvery ?? 100;
  let seed = options.seed ?? Date.now() & 0x7fffffff;
  while (report.executions < runs && Date.now() < stopAt) {
    const batch = fc.sample(attackArbitrary, { numRuns: Math.min(checkEvery, runs - report.executions), seed: seed++ });
    for (let i = 0; i < batch.length && Date.now() < stopAt; i += concurrency) {
      const attacks = batch.slice(i, i + concurrency);
      const outcomes = await Promise.all(attacks.map((attack) => runAttack(port, attack, options.quietMs ?? 40)));
      outcomes.forEach((outcome, j) => {
        report.executions++;
        if (outcome.goaway !== null) report.closedWithGoaway++;
        if (outcome.answers > 0) report.answered++;
        if (outcome.finding !== null) record(outcome.finding, attacks[j]!.bytes);
      });
    }
    if (options.check !== undefined) {
      try {
        await options.check();
      } catch (error) {
        record(`the server stopped serving good clients: ${(error as Error).message}`, Buffer.alloc(0));
        break;
      }
    }
  }
  return report;
}
