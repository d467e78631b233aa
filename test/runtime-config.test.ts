import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applyEnvironment, validateConfig } from '../runtime/config.ts';
import { ConfigError } from '../runtime/schema.ts';
import { scopedTest } from './helpers/scope.ts';

function problem(raw: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string {
  try {
    const sources = new Map<string, string>();
    validateConfig(applyEnvironment(raw, env, ['accounts'], sources), sources);
  } catch (error) {
    assert.instance(error, ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the config to be rejected');
}

test('a bad value names its path and what was expected', () => {
  assert.is(
    problem({ services: { accounts: { maxConcurrency: 'ten' } } }),
    'services.accounts.maxConcurrency: expected integer ≥ 1, got "ten"',
  );
  assert.is(problem({ http: { port: 70000 } }), 'http.port: expected integer in 0..65535, got 70000');
  assert.is(
    problem({ log: { level: 'loud' } }),
    'log.level: expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got "loud"',
  );
  assert.is(problem({ workers: 0 }), 'workers: expected integer in 1..256 or one of "auto", got 0');
});

test('an unknown key is an error, with the likely intended key', () => {
  assert.is(problem({ drain: { graceMS: 10 } }), 'drain.graceMS: unknown key (did you mean "graceMs"?)');
  assert.is(problem({ nonsense: true }), 'nonsense: unknown key');
});

test('environment variables override the file and name themselves in errors', () => {
  const config = validateConfig(
    applyEnvironment(
      { http: { port: 1 } },
      { CORPC_HTTP_PORT: '8181', CORPC_SERVICE_ACCOUNTS_ADDRESS: 'dns:///accounts:7101' },
      ['accounts'],
    ),
  );
  assert.is(config.http.port, 8181);
  assert.is(config.services.accounts?.address, 'dns:///accounts:7101');
  assert.is(config.http.userIdHeader, 'x-user-id');
  assert.is(config.drain.graceMs, 10_000);
  assert.is(
    problem({}, { CORPC_HTTP_PORT: 'eighty' }),
    'CORPC_HTTP_PORT (http.port): expected integer in 0..65535, got "eighty"',
  );
});

test("admission settings: checked with the framework's ranges, per unit over the top level, from the environment", () => {
  assert.is(problem({ admission: { alpha: 2 } }), 'admission.alpha: expected number in 0.001..0.9, got 2');
  assert.is(
    problem({ admission: { policy: 'fifo' } }),
    'admission.policy: expected one of "none", "random", "codel", "seda", "dagor-rt", "dagor-local", "dagor", got "fifo"',
  );
  assert.is(
    problem({ services: { accounts: { admission: { dryRun: 'yes' } } } }),
    'services.accounts.admission.dryRun: expected true or false, got "yes"',
  );
  assert.is(
    problem({ admission: { queuingThresholdMS: 5 } }),
    'admission.queuingThresholdMS: unknown key (did you mean "queuingThresholdMs"?)',
  );
  const config = validateConfig(
    applyEnvironment(
      {
        admission: { policy: 'dagor', windowMs: 500 },
        services: { accounts: { admission: { queuingThresholdMs: 5 } } },
      },
      { CORPC_ADMISSION_DRY_RUN: 'on', CORPC_SERVICE_ACCOUNTS_ADMISSION_POLICY: 'codel' },
      ['accounts'],
    ),
  );
  assert.equal({ ...config.admission }, { policy: 'dagor', windowMs: 500, dryRun: true });
  assert.equal({ ...config.services.accounts?.admission }, { queuingThresholdMs: 5, policy: 'codel' });
  assert.is(
    problem({}, { CORPC_ADMISSION_QUEUING_THRESHOLD_MS: 'fast' }),
    'CORPC_ADMISSION_QUEUING_THRESHOLD_MS (admission.queuingThresholdMs): expected number ≥ 0, got "fast"',
  );
});

scopedTest('corpc run stops at start-up with the path and the reason, exit code 2', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'corpc-config-'));
  t.defer(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'bad.json');
  await writeFile(file, JSON.stringify({ services: { probe: { maxConcurrency: 'ten' } } }));
  const result = spawnSync(
    process.execPath,
    [
      '--conditions=corpc-source',
      '--import',
      'tsx',
      'runtime/cli.ts',
      'run',
      'test/fixtures/runtime-probe.ts',
      '--config',
      file,
    ],
    { encoding: 'utf8', timeout: 20_000 },
  );
  assert.is(result.status, 2);
  assert.match(result.stderr, 'services.probe.maxConcurrency: expected integer ≥ 1, got "ten"');
  // A flag overrides the environment, and a bad flag is named as the flag.
  const flagged = spawnSync(
    process.execPath,
    [
      '--conditions=corpc-source',
      '--import',
      'tsx',
      'runtime/cli.ts',
      'run',
      'test/fixtures/runtime-probe.ts',
      '--grace-ms',
      'soon',
    ],
    { encoding: 'utf8', timeout: 20_000, env: { ...process.env, CORPC_DRAIN_GRACE_MS: '5' } },
  );
  assert.is(flagged.status, 2);
  assert.match(flagged.stderr, '--grace-ms (drain.graceMs): expected integer ≥ 0, got "soon"');
});

test.run();
