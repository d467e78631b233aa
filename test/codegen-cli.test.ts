import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { scopedTest } from './helpers/scope.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `corpc` command (runtime/bin/corpc.js) in a child process. */
function corpc(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['runtime/bin/corpc.js', ...args], (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

test('the example services are generated from their IDL and up to date', async () => {
  const run = await corpc('gen', 'services', '--out', 'services/generated', '--check');
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, /up to date/);
});

test('bad usage exits 2 with a message and the usage text', async () => {
  const cases: [string[], RegExp][] = [
    [['gen'], /--out <dir> is required/],
    [['gen', '--out', 'x'], /name at least one \.proto file or directory/],
    [['gen', 'nope.proto', '--out', 'x'], /"nope\.proto" does not exist/],
    [['gen', 'package.json', '--out', 'x'], /"package\.json" is not a \.proto file/],
    [['gen', 'services', '--out', 'x', '--frobnicate'], /Unknown option '--frobnicate'/],
  ];
  const runs = await Promise.all(cases.map(([args]) => corpc(...args)));
  runs.forEach((run, i) => {
    assert.is(run.code, 2, `${cases[i]![0].join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, cases[i]![1]);
    assert.match(run.stderr, /usage: corpc gen <files or dirs…> --out <dir> \[--check\]/);
  });
  const help = await corpc('gen', '--help');
  assert.is(help.code, 0);
  assert.match(help.stdout, /usage: corpc gen/);
});

scopedTest(
  'gen writes one module per file; --check exits 1 once one is stale; IDL errors exit 1 and write nothing',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'corpc-gen-cli-'));
    t.defer(() => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, 'out');
    cpSync('test/fixtures/codegen/shop.proto', join(dir, 'idl', 'shop.proto'));
    cpSync('test/fixtures/codegen/common.proto', join(dir, 'idl', 'common.proto'));
    const first = await corpc('gen', join(dir, 'idl'), '--out', out);
    assert.is(first.code, 0, first.stderr);
    assert.ok(existsSync(join(out, 'shop.ts')) && existsSync(join(out, 'common.ts')));

    assert.is((await corpc('gen', join(dir, 'idl'), '--out', out, '--check')).code, 0);
    writeFileSync(join(out, 'shop.ts'), `${readFileSync(join(out, 'shop.ts'), 'utf8')}// edited\n`);
    const stale = await corpc('gen', join(dir, 'idl'), '--out', out, '--check');
    assert.is(stale.code, 1);
    assert.match(stale.stderr, /shop\.ts is out of date/);
    assert.not.match(stale.stderr, /common\.ts/);

    writeFileSync(
      join(dir, 'idl', 'bad.proto'),
      'syntax = "proto3";\nmessage Transfer {\n  Acount from = 1;\n  int32 x = 1;\n}\n',
    );
    const broken = await corpc('gen', join(dir, 'idl', 'bad.proto'), '--out', join(dir, 'never'));
    assert.is(broken.code, 1);
    assert.match(broken.stderr, /bad\.proto:3:3: unknown type 'Acount' \[unknown-type\]/);
    assert.match(
      broken.stderr,
      /bad\.proto:4:13: field number 1 is already used by 'from' in 'Transfer' \[duplicate-number\]/,
    );
    assert.match(broken.stderr, /2 errors; nothing was written/);
    assert.not.ok(existsSync(join(dir, 'never')));
  },
);

test('an unknown corpc command exits 2 and lists gen', async () => {
  const run = await corpc('nope');
  assert.is(run.code, 2);
  assert.match(run.stderr, /gen +generate TypeScript from IDL/);
});

test.run();
