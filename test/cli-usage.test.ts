import { spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const bin = new URL('../runtime/bin/corpc.js', import.meta.url).pathname;

function corpc(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

test('corpc with no command fails with the usage; corpc --help succeeds with it', async () => {
  const [none, help] = await Promise.all([corpc([]), corpc(['--help'])]);
  assert.is(none.code, 2);
  assert.match(none.stderr, /corpc: name a command/);
  assert.match(none.stderr, /usage: corpc <command>/);
  assert.is(help.code, 0);
  assert.match(help.stdout, /usage: corpc <command>/);
});

test('corpc run with a misspelt option says which one it meant, without the usage text', async () => {
  const result = await corpc(['run', 'services/demo', '--wokers', '2']);
  assert.is(result.code, 2);
  assert.match(result.stderr, /corpc run: unknown option "--wokers" \(did you mean "--workers"\?\)/);
  assert.match(result.stderr, /corpc run --help for the options/);
  assert.not.match(result.stderr, /usage:|ERR_PARSE_ARGS|To specify a positional argument/);
});

test('an option far from every known one is named without a guess', async () => {
  const result = await corpc(['run', 'services/demo', '--frobnicate']);
  assert.is(result.code, 2);
  assert.match(result.stderr, /unknown option "--frobnicate"\n/);
});

test.run();
