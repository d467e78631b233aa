import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { clientStream, defineService } from 'corpc';
import { Echo, echoHandlers } from '../services/echo/echo.ts';
import { makeCertificates } from './helpers/certs.ts';
import { corpc, startCorpc } from './helpers/cli.ts';
import { DnsServer } from './helpers/dns-server.ts';
import { killRuntime, startRuntime, type RunningRuntime, FREE_PORTS } from './helpers/runtime.ts';
import { serve } from './helpers/servers.ts';

// One demo for the tests that call it (`corpc run services/demo`, reflection on as the demo sets it).
let demo: RunningRuntime;
let gateway: string;

test.before(async () => {
  demo = await startRuntime(['services/demo', '--workers', '1', ...FREE_PORTS]);
  gateway = `127.0.0.1:${demo.units.gateway}`;
});
test.after(async () => {
  await killRuntime(demo);
});

test("corpc list: the demo's services, methods and message schemas, in the IDL's syntax; built-in services in a line", async () => {
  const { code, stdout, stderr } = await corpc(['list', gateway]);
  assert.is(code, 0, stderr);
  assert.match(stdout, /^service corpc\.demo\.Gateway \{ {2}\/\/ entry/m);
  assert.match(
    stdout,
    /^ {2}rpc Login\(corpc\.demo\.LoginRequest\) returns \(corpc\.demo\.LoginReply\); {2}\/\/ corpc\.demo\.Gateway\/Login, business priority 0$/m,
  );
  assert.match(stdout, /^message corpc\.demo\.LoginRequest \{\n {2}string userId = 1;\n {2}string password = 2;\n\}$/m);
  assert.match(
    stdout,
    /^built in: corpc\.health\.v1\.Health \(Check, Watch\), corpc\.reflection\.v1\.Reflection \(List\)/m,
  );
  assert.not.match(stdout, /message corpc\.health/, 'built-in schemas only when asked for');
  assert.match(
    stdout,
    /^ {2}rpc WatchBalance\(corpc\.demo\.WatchBalanceRequest\) returns \(stream corpc\.demo\.Balance\);/m,
    'a server stream is marked as the IDL marks it',
  );

  const health = await corpc(['list', gateway, 'corpc.health.v1.Health']);
  assert.is(health.code, 0, health.stderr);
  assert.match(
    health.stdout,
    /rpc Watch\(corpc\.health\.v1\.HealthCheckRequest\) returns \(stream corpc\.health\.v1\.HealthCheckResponse\)/,
  );
  assert.match(health.stdout, /message corpc\.health\.v1\.HealthCheckRequest \{\n {2}string service = 1;\n\}/);

  const json = await corpc(['list', `127.0.0.1:${demo.units.payments}`, 'Payments', '--json']);
  assert.is(json.code, 0, json.stderr);
  const listing = JSON.parse(json.stdout) as {
    services: { name: string; methods: { path: string }[] }[];
    types: { name: string }[];
  };
  assert.equal(
    listing.services.map((s) => s.name),
    ['corpc.demo.Payments'],
  );
  assert.ok(listing.services[0]!.methods.length > 0);
  assert.ok(
    listing.types.some((type) => type.name.startsWith('corpc.demo.')),
    'message schemas',
  );

  const missing = await corpc(['list', gateway, 'Nope']);
  assert.is(missing.code, 1);
  assert.match(
    missing.stderr,
    /has no service "Nope" \(services: corpc\.health\.v1\.Health, corpc\.reflection\.v1\.Reflection, corpc\.demo\.Gateway\)/,
  );
});

test('corpc call: JSON in and out, by any name the HTTP entry takes; -d @file and -d - (stdin)', async () => {
  const login = await corpc(['call', gateway, 'Gateway/Login', '-d', '{"userId":"u-42","password":"pw"}']);
  assert.is(login.code, 0, login.stderr);
  const reply = JSON.parse(login.stdout) as { displayName: string; session: string };
  assert.is(reply.displayName, 'User 42');
  assert.type(reply.session, 'string');

  const dir = mkdtempSync(join(tmpdir(), 'corpc-call-'));
  try {
    writeFileSync(join(dir, 'login.json'), '{"userId":"u-7","password":"pw"}');
    const fromFile = await corpc(['call', gateway, 'corpc.demo.Gateway/Login', '-d', `@${join(dir, 'login.json')}`]);
    assert.is(fromFile.code, 0, fromFile.stderr);
    assert.is((JSON.parse(fromFile.stdout) as { displayName: string }).displayName, 'User 7');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const fromStdin = await corpc(['call', gateway, 'Gateway/login', '-d', '-'], '{"userId":"u-9","password":"pw"}');
  assert.is(fromStdin.code, 0, fromStdin.stderr);
  assert.is((JSON.parse(fromStdin.stdout) as { displayName: string }).displayName, 'User 9');

  const health = await corpc([
    'call',
    gateway,
    'corpc.health.v1.Health/Check',
    '-d',
    '{"service":"corpc.demo.Gateway"}',
  ]);
  assert.is(health.code, 0, health.stderr);
  assert.equal(JSON.parse(health.stdout), { status: 'SERVING' });
});

test('corpc call: a server stream prints each message on a line of its own, and ends with the stream', async () => {
  const watch = await corpc([
    'call',
    gateway,
    'Gateway/WatchBalance',
    '-d',
    '{"intervalMs":20,"count":3}',
    '-m',
    'user-id=u-42',
  ]);
  assert.is(watch.code, 0, watch.stderr);
  const lines = watch.stdout.trimEnd().split('\n');
  assert.is(lines.length, 3, watch.stdout);
  for (const line of lines) {
    const balance = JSON.parse(line) as { userId: string; cents: number };
    assert.is(balance.userId, 'u-42');
    assert.type(balance.cents, 'number');
  }

  // The handler fails before its first message (no user id): the stream's error, exit 1.
  const anonymous = await corpc(['call', gateway, 'Gateway/WatchBalance', '-d', '{"count":1}']);
  assert.is(anonymous.code, 1);
  assert.is(anonymous.stdout, '');
  assert.match(anonymous.stderr, /^corpc call: UNAUTHENTICATED \(16\), reason no_user: /m);

  // --timeout bounds the whole stream: an endless one ends with DEADLINE_EXCEEDED after what it sent.
  const endless = await corpc([
    'call',
    gateway,
    'Gateway/WatchBalance',
    '-d',
    '{"intervalMs":100}',
    '-m',
    'user-id=u-42',
    '--timeout',
    '1000',
  ]);
  assert.is(endless.code, 1, endless.stderr);
  assert.ok(endless.stdout.trimEnd().split('\n').length >= 1, endless.stdout);
  assert.match(endless.stderr, /^corpc call: DEADLINE_EXCEEDED \(4\)/m);
});

test('corpc call: a validation error and an unknown method print the status and reason, exit 1', async () => {
  const invalid = await corpc(['call', gateway, 'Gateway/Login', '-d', '{"userId":5}']);
  assert.is(invalid.code, 1);
  assert.is(invalid.stdout, '');
  assert.match(
    invalid.stderr,
    /^corpc call: INVALID_ARGUMENT \(3\), reason invalid_request: corpc\.demo\.Gateway\/Login: field "userId" must be a string, got 5$/m,
  );

  const unknown = await corpc(['call', gateway, 'Gateway/Logn', '-d', '{}']);
  assert.is(unknown.code, 1);
  assert.match(
    unknown.stderr,
    /^corpc call: UNIMPLEMENTED \(12\), reason unknown_method: unknown method "Gateway\/Logn"$/m,
  );
  assert.match(
    unknown.stderr,
    /did you mean "Gateway\/Login"\? methods: corpc\.demo\.Gateway\/Login, corpc\.demo\.Gateway\/Pay/,
  );

  const unreachable = await corpc(['call', '127.0.0.1:1', 'Gateway/Login', '--timeout', '2000']);
  assert.is(unreachable.code, 1);
  assert.match(unreachable.stderr, /^corpc call: UNAVAILABLE \(14\)/m);
});

test('corpc call and list: bad command lines exit 2 naming the problem', async () => {
  const cases: [string[], RegExp][] = [
    [['call'], /expected a target and a method: corpc call <target> <Service\/Method>/],
    [['call', gateway, 'Gateway'], /method "Gateway" is not Service\/Method/],
    [['call', gateway, 'Gateway/Login', '-d', '{user'], /--data is not valid JSON/],
    [
      ['call', gateway, 'Gateway/Login', '-d', '@/nonexistent/body.json'],
      /--data @\/nonexistent\/body\.json: cannot read it \(ENOENT\)/,
    ],
    [
      ['call', gateway, 'Gateway/Login', '--business-priority', '64'],
      /--business-priority must be an integer in 0\.\.63, got "64"/,
    ],
    [['call', gateway, 'Gateway/Login', '--metadata', 'novalue'], /--metadata "novalue" is not KEY=VALUE/],
    [['call', gateway, 'Gateway/Login', '--tls-cert', 'x.pem'], /--tls-cert and --tls-key go together/],
    [['call', gateway, 'Gateway/Login', '--timout', '5'], /unknown option "--timout" \(did you mean "--timeout"\?\)/],
    [
      ['call', gateway, 'Gateway/Login', '--dns-server', 'not-an-ip'],
      /--dns-server: servers must be "ip" or "ip:port"/,
    ],
    [['list'], /name a target: corpc list <target> \[Service\]/],
    [
      ['list', gateway, '--tls-ca', '/nonexistent/ca.pem'],
      /--tls-ca \/nonexistent\/ca\.pem: cannot read it \(ENOENT\)/,
    ],
  ];
  const results = await Promise.all(cases.map(([args]) => corpc(args)));
  results.forEach((result, i) => {
    const [args, pattern] = cases[i]!;
    assert.is(result.code, 2, `${args.join(' ')}: exit ${result.code}\n${result.stderr}`);
    assert.match(result.stderr, pattern, args.join(' '));
    assert.match(result.stderr, new RegExp(`corpc ${args[0]} --help for the options`));
  });
});

test('corpc call: the deadline, business and user priorities and metadata go with the call; a server without reflection is called by its path', async () => {
  const { server, target } = await serve(Echo, echoHandlers());
  try {
    const inspect = await corpc([
      'call',
      target,
      'Echo/inspect',
      '--timeout',
      '3000',
      '--business-priority',
      '7',
      '--user-priority',
      '9',
      '-m',
      'tenant=acme',
    ]);
    assert.is(inspect.code, 0, inspect.stderr);
    const view = JSON.parse(inspect.stdout) as {
      remainingMs: number;
      businessPriority: number;
      userPriority: number;
      metadata: Record<string, string>;
    };
    assert.is(view.businessPriority, 7);
    assert.is(view.userPriority, 9);
    assert.equal(view.metadata, { tenant: 'acme' });
    assert.ok(
      view.remainingMs > 1000 && view.remainingMs <= 3000,
      `remaining ${view.remainingMs} ms of a 3000 ms deadline`,
    );

    const list = await corpc(['list', target]);
    assert.is(list.code, 1);
    assert.match(list.stderr, /does not serve reflection \(UNIMPLEMENTED\): start its server with reflection: true/);
    // No reflection to map `Echo/Echo` to the registered `Echo/echo`: the other case is tried once.
    const echo = await corpc(['call', target, 'Echo/Echo', '-d', '{"text":"hi"}']);
    assert.is(echo.code, 0, echo.stderr);
    assert.equal(JSON.parse(echo.stdout), { text: 'hi' });
  } finally {
    await server.close();
  }
});

test('corpc call Health/Watch, reflection or not: each status on a line as it changes, until the drain ends the stream', async () => {
  const { server, target } = await serve(Echo, echoHandlers());
  const watch = startCorpc([
    'call',
    target,
    'corpc.health.v1.Health/Watch',
    '-d',
    '{"service":""}',
    '--timeout',
    '60000',
  ]);
  try {
    assert.is(await watch.line(), '{"status":"SERVING"}');
    // Set only once the first line is out: the command prints as the stream goes, not at its end.
    server.health.set('', 'NOT_SERVING');
    assert.is(await watch.line(), '{"status":"NOT_SERVING"}');
    server.health.set('', 'SERVING');
    assert.is(await watch.line(), '{"status":"SERVING"}');
    await server.close(60_000);
    assert.is(await watch.line(), '{"status":"NOT_SERVING"}');
    const { code, stderr } = await watch.result;
    assert.is(code, 0, stderr);
  } finally {
    watch.kill();
    await server.close();
  }
});

test('corpc call refuses a client or bidi stream by name: it sends one request', async () => {
  const Uploads = defineService('Uploads', {
    upload: clientStream<{ bytes: number }, { total: number }>(),
  });
  const { server, target } = await serve(
    Uploads,
    {
      async upload(chunks) {
        let total = 0;
        for await (const chunk of chunks) total += chunk.bytes;
        return { total };
      },
    },
    { reflection: true },
  );
  try {
    const upload = await corpc(['call', target, 'Uploads/upload', '-d', '{"bytes":1}']);
    assert.is(upload.code, 1);
    assert.match(
      upload.stderr,
      /^corpc call: Uploads\/upload is a client-stream method: corpc call sends one request/m,
    );
  } finally {
    await server.close();
  }
});

test('corpc list and call: over TLS, and against dns:/// and srv:/// targets', async () => {
  const certs = makeCertificates();
  const dir = mkdtempSync(join(tmpdir(), 'corpc-call-tls-'));
  const { server, port } = await serve(Echo, echoHandlers(), {
    tls: { key: certs.serverKey, cert: certs.serverCert },
    reflection: true,
  });
  const dns = await DnsServer.start({
    '_echo._tcp.corpc.test': { SRV: [{ priority: 0, weight: 1, port, target: 'echo.corpc.test' }] },
    'echo.corpc.test': { A: ['127.0.0.1'] },
  });
  try {
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, certs.ca);
    const list = await corpc(['list', `127.0.0.1:${port}`, '--tls-ca', ca]);
    assert.is(list.code, 0, list.stderr);
    assert.match(list.stdout, /^service Echo \{$/m);
    assert.match(list.stdout, /^message EchoRequest \{\n {2}string text = 1;\n\}$/m);

    const plain = await corpc(['call', `127.0.0.1:${port}`, 'Echo/echo', '--timeout', '2000']);
    assert.is(plain.code, 1, 'a TLS server does not answer plain TCP');

    const byDns = await corpc([
      'call',
      `dns:///localhost:${port}`,
      'Echo/echo',
      '-d',
      '{"text":"dns"}',
      '--tls-ca',
      ca,
    ]);
    assert.is(byDns.code, 0, byDns.stderr);
    assert.equal(JSON.parse(byDns.stdout), { text: 'dns' });

    const bySrv = await corpc([
      'call',
      'srv:///_echo._tcp.corpc.test',
      'Echo/echo',
      '-d',
      '{"text":"srv"}',
      '--dns-server',
      dns.address,
      '--tls-ca',
      ca,
      '--tls-servername',
      'localhost',
    ]);
    assert.is(bySrv.code, 0, bySrv.stderr);
    assert.equal(JSON.parse(bySrv.stdout), { text: 'srv' });
  } finally {
    await server.close();
    await dns.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
