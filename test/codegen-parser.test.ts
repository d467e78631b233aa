import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../codegen/compile.ts';
import { formatDiagnostic, type Diagnostic } from '../codegen/diagnostics.ts';
import { parseProto } from '../codegen/parser.ts';

/** Compiles IDL sources written to a temporary directory; returns the diagnostics as `line:col code`. */
function problems(files: Record<string, string>): { list: string[]; diagnostics: Diagnostic[] } {
  const dir = mkdtempSync(join(tmpdir(), 'corpc-idl-'));
  try {
    for (const [name, source] of Object.entries(files)) writeFileSync(join(dir, name), source);
    const { diagnostics } = compile(
      Object.keys(files)
        .slice(0, 1)
        .map((name) => join(dir, name)),
    );
    return { list: diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`), diagnostics };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a valid file parses into its declarations', () => {
  const file = parseProto(
    'a.proto',
    `syntax = "proto3";
     package a.b; // comment
     /* block
        comment */
     import "other.proto";
     message Outer { message Inner { int32 x = 1; } repeated Inner inners = 1; map<string, Inner> byName = 2;
       oneof pick { string s = 3; int64 n = 4; } optional bool flag = 5 [deprecated = true]; reserved 6, 8 to max; }
     enum E { E_ZERO = 0; E_ONE = 1; }
     service S { option (corpc.entry) = true; rpc Do(Outer) returns (Outer.Inner) { option (corpc.timeout_ms) = 300; } }`,
  );
  assert.is(file.package, 'a.b');
  assert.equal(
    file.imports.map((i) => i.path),
    ['other.proto'],
  );
  const outer = file.messages[0]!;
  assert.equal(
    outer.fields.map((f) => [f.name, f.label, f.type.name, f.mapKey?.name, f.oneof]),
    [
      ['inners', 'repeated', 'Inner', undefined, undefined],
      ['byName', undefined, 'Inner', 'string', undefined],
      ['s', undefined, 'string', undefined, 'pick'],
      ['n', undefined, 'int64', undefined, 'pick'],
      ['flag', 'optional', 'bool', undefined, undefined],
    ],
  );
  assert.equal(outer.reservedNumbers, [
    { from: 6, to: 6 },
    { from: 8, to: 536_870_911 },
  ]);
  assert.is(outer.messages[0]!.name, 'Inner');
  assert.equal(
    file.enums[0]!.values.map((v) => [v.name, v.number]),
    [
      ['E_ZERO', 0],
      ['E_ONE', 1],
    ],
  );
  const service = file.services[0]!;
  assert.equal(
    service.options.map((o) => [o.name, o.value]),
    [['(corpc.entry)', true]],
  );
  assert.equal(
    service.rpcs[0]!.options.map((o) => [o.name, o.value]),
    [['(corpc.timeout_ms)', 300]],
  );
  assert.equal([service.rpcs[0]!.input.name, service.rpcs[0]!.output.name], ['Outer', 'Outer.Inner']);
});

test('an unknown type is reported at its position, with a suggestion', () => {
  const { list, diagnostics } = problems({
    'bank.proto': `syntax = "proto3";
message Account { string id = 1; }
message Transfer {
  Acount from = 1;
}`,
  });
  assert.equal(list, ['4:3 unknown-type']);
  assert.ok(diagnostics[0]!.file.endsWith('bank.proto'));
  assert.match(
    formatDiagnostic(diagnostics[0]!),
    /bank\.proto:4:3: unknown type 'Acount' \(did you mean 'Account'\?\) \[unknown-type\]$/,
  );
});

test('all the errors of a file are reported at once, syntax and meaning alike', () => {
  const { list } = problems({
    'many.proto': `syntax = "proto3";
message A {
  string name = 1;
  int32 name = 2;
  int32 other = 1;
  strin title = 3;
  int32 = 4;
  int32 big = 0;
}
enum E { E_ONE = 1; }
service S {
  rpc Get(A) returns (E);
  rpc Watch(stream A) returns (A);
  rpc Close(A) returns (A);
}
message B { B self = 1; optional B parent = 2; }
`,
  });
  assert.equal(list, [
    '7:9 syntax', // a field without a name
    '4:9 duplicate-name',
    '5:17 duplicate-number',
    '6:3 unknown-type',
    '8:15 bad-number',
    '10:10 bad-number', // the first enum value must be 0
    '16:15 recursive-field',
    '12:23 wrong-kind', // an enum as an rpc output
    '14:7 duplicate-name', // `close` is the client's own method
  ]);
});

test('stream rpcs parse into their kind; stream where it does not belong is named', () => {
  const file = parseProto(
    's.proto',
    `syntax = "proto3";
     message stream {}
     service S {
       rpc Watch(stream) returns (stream stream);
       rpc Upload(stream stream) returns (stream);
       rpc Chat(stream .stream) returns (stream stream);
       rpc Get(stream) returns (stream);
     }`,
  );
  assert.equal(
    file.services[0]!.rpcs.map((r) => [r.name, r.inputStream, r.input.name, r.outputStream, r.output.name]),
    [
      ['Watch', false, 'stream', true, 'stream'],
      ['Upload', true, 'stream', false, 'stream'],
      ['Chat', true, '.stream', true, 'stream'],
      ['Get', false, 'stream', false, 'stream'],
    ],
  );
  const { diagnostics } = problems({
    'bad.proto': `syntax = "proto3";
message A {}
service S {
  stream Watch(A) returns (A);
  rpc Up(stream A) returns (A) { option (corpc.idempotent) = true; }
  rpc Down(A) returns (stream Missing);
  rpc Twice(stream stream A) returns (A);
}`,
  });
  assert.equal(
    diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`),
    ['4:3 unsupported', '7:27 syntax', '5:41 bad-option-value', '6:31 unknown-type'],
  );
  assert.match(diagnostics[0]!.message, /write 'stream' inside an rpc/);
  assert.match(diagnostics[2]!.message, /does not apply to streaming rpc 'Up': streams are never retried/);
});

test("'did you mean' for types and corpc options, none when nothing is close", () => {
  const { diagnostics } = problems({
    'opts.proto': `syntax = "proto3";
message Req {}
service S {
  option (corpc.entyr) = true;
  rpc A(Reqq) returns (Req) { option (corpc.timeout) = 5; }
  rpc B(Req) returns (Zebra) { option (corpc.business_priority) = 99; option (corpc.entry) = true; }
}`,
  });
  const messages = diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`);
  assert.equal(messages, [
    "4:10 unknown-option unknown corpc option (corpc.entyr) (did you mean '(corpc.entry)'?)",
    "5:9 unknown-type unknown type 'Reqq' (did you mean 'Req'?)",
    "5:38 unknown-option unknown corpc option (corpc.timeout) (did you mean '(corpc.timeout_ms)'?)",
    "6:23 unknown-type unknown type 'Zebra'",
    '6:67 bad-option-value (corpc.business_priority) must be an integer in 0..63, got 99',
    '6:78 unknown-option option (corpc.entry) belongs on a service, not on a rpc',
  ]);
});

test('unsupported proto constructs get a clear error, not silence', () => {
  const { list } = problems({
    'old.proto': `syntax = "proto2";
message A {
  required int32 x = 1;
  extensions 100 to 200;
  group G = 2 { }
}
extend A { int32 y = 101; }
`,
  });
  assert.equal(list, ['1:10 unsupported', '3:3 unsupported', '4:3 unsupported', '5:3 unsupported', '7:1 unsupported']);
});

test('imports resolve next to the importing file; a missing one is reported where it is imported', () => {
  const ok = problems({
    'main.proto': 'syntax = "proto3"; package p; import "dep.proto"; message M { p.D d = 1; D e = 2; .p.D f = 3; }',
    'dep.proto': 'syntax = "proto3"; package p; message D {}',
  });
  assert.equal(ok.list, []);
  const missing = problems({ 'main.proto': 'syntax = "proto3";\nimport "nope.proto";\nmessage M {}' });
  assert.equal(missing.list, ['2:8 import-not-found']);
  const notImported = problems({
    'main.proto': 'syntax = "proto3"; import "a.proto"; message M { D d = 1; }',
    'a.proto': 'syntax = "proto3"; import "b.proto";',
    'b.proto': 'syntax = "proto3"; message D {}',
  });
  assert.equal(notImported.list, ['1:50 unknown-type']);
});

test('lexical problems: unterminated strings and comments, stray characters', () => {
  const { list } = problems({
    'lex.proto': 'syntax = "proto3";\nmessage A { string s = 1; } #\noption x = "open\n/* never closed',
  });
  // The unterminated string also leaves the option without its ';' at the end of the file.
  assert.equal(list, ['2:29 syntax', '3:12 syntax', '4:1 syntax', '4:16 syntax']);
});

test.run();
