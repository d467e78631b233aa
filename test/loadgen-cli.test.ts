import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defineService, method } from 'corpc';
import type { AdmissionPolicy } from 'corpc';
import { corpc } from './helpers/cli.ts';
import { Echo, echoHandlers } from '../services/echo/echo.ts';
import { serve } from './helpers/servers.ts';
import { scopedTest } from './helpers/scope.ts';

const fixture = new URL('./fixtures/loadgen-service.ts', import.meta.url).pathname;

test('bad arguments: a clear error naming the problem, exit code 2, no load sent', async () => {
  const cases: [string[], RegExp][] = [
    [['bench'], /expected an address and a method/],
    [['bench', '127.0.0.1:1', 'Echo'], /is not Service\/Method/],
    [['bench', '127.0.0.1:1', 'Echo/echo', '-c', 'ten'], /--concurrency must be an integer/],
    [['bench', '127.0.0.1:1', 'Echo/echo', '-c', '5', '--rate', '10'], /not both/],
    [['bench', '127.0.0.1:1', 'Echo/echo', '--data', '{text:'], /--data is not valid JSON/],
    [['bench', '127.0.0.1:1', 'Echo/echo', '--rate', '50..10'], /end of a ramp must be above its start/],
    [
      ['bench', '127.0.0.1:1', 'Echo/echo', '--priority-mix', '0:5,70:1'],
      /--priority-mix business priority must be an integer in 0..63, got "70"/,
    ],
    [['bench', '127.0.0.1:1', 'Echo/echo', '--priority-mix', '0:5,0:1'], /business priority 0 is given twice/],
    [['bench', '127.0.0.1:1', 'Echo/echo', '--priority-mix', '0:5', '--business-priority', '1'], /not both/],
    [['bench', '127.0.0.1:1', 'Echo/echo', '--frobnicate'], /unknown option "--frobnicate"/],
    [
      ['bench', '127.0.0.1:1', 'Echo/echo', '--concurency', '4'],
      /unknown option "--concurency" \(did you mean "--concurrency"\?\)/,
    ],
    [
      ['bench', '127.0.0.1:1', 'Echo/echo', '--module', fixture, '--data', '{"text":5}'],
      /--data does not fit Echo\/echo's request: text: expected a string/,
    ],
    [['bench', '127.0.0.1:1', 'Nope/echo', '--module', fixture], /has no service "Nope"/],
    [
      ['bench', '127.0.0.1:1', 'Echo/echo', '--proto', 'services/echo/echo.proto', '--data', '{"text":5}'],
      /--data does not fit Echo\/echo's request: .*field "text" must be a string, got 5/,
    ],
    [
      ['bench', '127.0.0.1:1', 'Echo/echo', '--proto', 'test/fixtures/codegen/missing.proto'],
      /--proto test\/fixtures\/codegen\/missing.proto: cannot read it/,
    ],
    [['bench', '127.0.0.1:1', 'Echo/echo', '--proto', 'services/echo/echo.proto', '--module', fixture], /not both/],
    [
      ['bench', '127.0.0.1:1', 'Echo/echo', '--json', '/nonexistent-folder/run.json'],
      /--json \/nonexistent-folder\/run.json: its folder cannot be written \(ENOENT\)/,
    ],
  ];
  const results = await Promise.all(cases.map(([args]) => corpc(args)));
  results.forEach((result, i) => {
    const [args, pattern] = cases[i]!;
    assert.is(result.code, 2, `${args.join(' ')}: exit ${result.code}\n${result.stderr}`);
    assert.match(result.stderr, pattern, args.join(' '));
    // The error, and where the options are: not the whole usage text burying it.
    assert.match(result.stderr, /corpc bench --help for the options/);
    assert.not.match(result.stderr, /usage: corpc bench/);
  });
});

scopedTest('a run against a real service: the report and --json account for every request', async (t) => {
  const { server, target } = await serve(Echo, echoHandlers());
  const dir = mkdtempSync(join(tmpdir(), 'corpc-loadgen-'));
  t.defer(() => server.close());
  t.defer(() => rmSync(dir, { recursive: true, force: true }));
  const json = join(dir, 'out.json');
  const svg = join(dir, 'out.svg');
  const result = await corpc([
    'bench',
    target,
    'Echo/Echo',
    '--module',
    fixture,
    '-D',
    '{"text":"hello"}',
    '-n',
    '300',
    '-c',
    '4',
    '--warmup',
    '0',
    '-q',
    '--json',
    json,
    '--svg',
    svg,
  ]);
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, /OK\s+300/);
  const report = JSON.parse(readFileSync(json, 'utf8')) as {
    sent: number;
    ok: number;
    outcomes: Record<string, number>;
    requests_per_s: number;
    latency_ms: Record<string, number>;
  };
  assert.is(report.sent, 300);
  assert.is(report.ok, 300);
  assert.equal(report.outcomes, { OK: 300 });
  assert.ok(report.requests_per_s > 0);
  for (const key of ['p50', 'p90', 'p99', 'p999', 'max']) assert.type(report.latency_ms[key], 'number', key);
  assert.match(readFileSync(svg, 'utf8'), /^<svg /);
});

scopedTest('the method path is sent as given, and the other case of its first letter is accepted', async (t) => {
  // A generated descriptor keeps the IDL's case (`kv.KeyValue/Get`); a hand-written one the client key (`Echo/echo`).
  const KeyValue = defineService('kv.KeyValue', {
    get: method<{ key: string }, { value: string }>({ path: 'kv.KeyValue/Get' }),
  });
  const { server, target } = await serve(KeyValue, { get: (request) => ({ value: request.key }) });
  const { server: echo, target: echoTarget } = await serve(Echo, echoHandlers());
  t.defer(() => Promise.all([server.close(), echo.close()]));
  const runs = await Promise.all([
    corpc(['bench', target, 'kv.KeyValue/Get', '-n', '20', '-q']),
    corpc(['bench', target, 'kv.KeyValue/get', '-n', '20', '-q']),
    corpc(['bench', echoTarget, 'Echo/Echo', '-n', '20', '-q']),
  ]);
  for (const result of runs) {
    assert.is(result.code, 0, result.stderr);
    assert.match(result.stdout, /OK\s+20/);
  }
  assert.match(runs[1]!.stdout, /kv\.KeyValue\/Get/);
});

scopedTest(
  'under overload: goodput is the headline, outcomes are by status and reason, and by business priority with a mix',
  async (t) => {
    // The server admits business priority 0 only (level B0 U127), whatever its windows say: priority 10 is shed, first by it, then by the client.
    const level = 127;
    const fixed: AdmissionPolicy = {
      name: 'fixed',
      level,
      advertisedLevel: level,
      overloaded: true,
      admit: (l) => l <= level,
      dequeue: () => true,
      onWindow: () => undefined,
    };
    const { server, target } = await serve(Echo, echoHandlers(), { admission: { policy: fixed } });
    const dir = mkdtempSync(join(tmpdir(), 'corpc-loadgen-'));
    t.defer(() => server.close());
    t.defer(() => rmSync(dir, { recursive: true, force: true }));
    const json = join(dir, 'out.json');
    const result = await corpc([
      'bench',
      target,
      'Echo/Echo',
      '--module',
      fixture,
      '-D',
      '{"text":"hi"}',
      '-n',
      '400',
      '-c',
      '4',
      '--warmup',
      '0',
      '-q',
      '--priority-mix',
      '0:1,10:1',
      '--json',
      json,
    ]);
    assert.is(result.code, 0, result.stderr);
    assert.match(result.stdout, /goodput [\d,]+ OK\/s {3}sent [\d,]+\/s/);
    assert.match(result.stdout, /RESOURCE_EXHAUSTED local_admission\s+[\d,]+/);
    assert.match(result.stdout, /by business priority/);
    const report = JSON.parse(readFileSync(json, 'utf8')) as {
      sent: number;
      ok: number;
      ok_per_s: number;
      outcomes_by_reason: Record<string, number>;
      priorities: { business: number; sent: number; ok: number; outcomes: Record<string, number> }[];
      timeline: { ok_per_s: number; failed_per_s: Record<string, number> }[];
    };
    assert.equal(
      report.priorities.map((p) => p.business),
      [0, 10],
    );
    const [high, low] = report.priorities as [(typeof report.priorities)[0], (typeof report.priorities)[0]];
    assert.is(high.sent + low.sent, 400);
    assert.is(high.ok, high.sent, 'priority 0 is admitted');
    assert.is(low.ok, 0, 'priority 10 is shed');
    assert.is(
      (low.outcomes['RESOURCE_EXHAUSTED local_admission'] ?? 0) +
        (low.outcomes['RESOURCE_EXHAUSTED admission_level'] ?? 0),
      low.sent,
    );
    assert.is(report.ok, high.ok);
    assert.is(
      Object.values(report.outcomes_by_reason).reduce((a, b) => a + b, 0),
      400,
    );
    assert.ok(report.ok_per_s > 0);
  },
);

scopedTest('an unknown method is reported before any load is sent', async (t) => {
  const { target } = await t.serve(Echo, echoHandlers());
  const result = await corpc(['bench', target, 'Echo/missing', '-n', '10']);
  assert.is(result.code, 1);
  assert.match(result.stderr, /UNIMPLEMENTED.*no load sent/);
});

test.run();
