import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError, parseScenarioArgs } from '../bench/args.ts';
import { corpc } from './helpers/cli.ts';

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

test('a bench scenario names itself and its options when its flags are wrong', () => {
  const parse = (args: string[]) =>
    parseScenarioArgs('resolver', { args, options: { seconds: { type: 'string' } } }, 'options: --seconds N');
  assert.is(parse(['--seconds', '2']).values.seconds, '2');
  for (const [args, problem] of [
    [['--secnds', '2'], 'unknown option "--secnds" (did you mean "--seconds"?)'],
    [['--seconds'], "Option '--seconds <value>' argument missing"],
  ] as const) {
    let error: unknown;
    try {
      parse([...args]);
    } catch (thrown) {
      error = thrown;
    }
    assert.instance(error, UsageError);
    assert.is((error as UsageError).message, `bench resolver: ${problem}\noptions: --seconds N`);
  }
});

test.run();
