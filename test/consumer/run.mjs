// The consumer test: corpc installed and used in a user's own project, outside this repository,
// the way README's "Use corpc in your own project" walks it. `npm pack`; a new project in a
// temporary folder for each kind (ESM, CommonJS); the tarball installed; `npx corpc gen`;
// `tsc --noEmit` with the current TypeScript release (strict, skipLibCheck: false, the default
// `types`, so corpc's declarations must name what they use themselves); then on each
// Node given: `npx corpc run`, a client, curl-like calls over HTTP with one bad body,
// `npx corpc bench --module` and `--proto`, a CommonJS require, and a drain. Also installs from a
// checkout (this repository) and from git. Prints a uvu-style summary that .ci/run counts.
//
//   node test/consumer/run.mjs [--node24 <path to a Node 24 binary>]
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const { values } = parseArgs({ options: { node24: { type: 'string' } } });
const nodes = [process.execPath, ...(values.node24 === undefined ? [] : [values.node24])];
const work = mkdtempSync(join(tmpdir(), 'corpc-consumer-'));
let passed = 0;
let failed = 0;

/** Runs a command to its end; throws with its output when it fails. */
function run(command, args, { cwd = work, node = process.execPath, input } = {}) {
  const result = spawnSync(command, args, { cwd, env: envFor(node), encoding: 'utf8', input, timeout: 240_000 });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} (in ${cwd}) exited with ${result.status ?? result.signal}:\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}

/** The environment of a user whose `node` (and npm, npx) is the given binary; nothing of this repository. */
function envFor(node) {
  const env = { ...process.env, PATH: `${dirname(node)}:${process.env.PATH}`, CORPC_LOG_LEVEL: 'warn' };
  for (const key of Object.keys(env)) if (key.startsWith('npm_') || key === 'NODE_OPTIONS') delete env[key];
  return env;
}

async function check(name, body) {
  const started = Date.now();
  try {
    await body();
    passed++;
    console.log(`  ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    failed++;
    console.log(`  FAIL ${name}\n${String(error?.stack ?? error).replace(/^/gm, '       ')}`);
  }
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

/** A new project of the given kind with corpc installed from `source`, generated and type-checked. */
function createProject(name, type, source) {
  const dir = join(work, name);
  mkdirSync(join(dir, 'proto'), { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: `consumer-${name}`, version: '1.0.0', private: true, type }, null, 2),
  );
  run('npm', ['install', '--no-audit', '--no-fund', source], { cwd: dir });
  cpSync(join(here, 'kv.proto'), join(dir, 'proto', 'kv.proto'));
  cpSync(join(here, 'src'), join(dir, 'src'), { recursive: true });
  // In a CommonJS project, a script node runs itself is ESM by its extension (corpc loads .ts as ESM either way).
  if (type === 'commonjs') cpSync(join(dir, 'src', 'client.ts'), join(dir, 'src', 'client.mts'));
  if (type === 'commonjs') rmSync(join(dir, 'src', 'client.ts'));
  run('npx', ['corpc', 'gen', 'proto', '--out', 'src/generated'], { cwd: dir });
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          allowImportingTsExtensions: true,
          verbatimModuleSyntax: type === 'module',
        },
        include: ['src'],
      },
      null,
      2,
    ),
  );
  return dir;
}

/** `npx corpc run` on the given Node; resolves with the ports it printed and a stop function. */
async function start(dir, node) {
  // What `npx corpc run` starts (node_modules/.bin/corpc), without npx between us and its exit
  // status; in its own process group, stopped as a terminal's Ctrl-C stops it: SIGINT to the group.
  const child = spawn(
    join(dir, 'node_modules', '.bin', 'corpc'),
    ['run', 'src/service.ts', '--workers', '1', '--port', '0', '--http-port', '0', '--admin-port', '0'],
    {
      cwd: dir,
      env: envFor(node),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (out += chunk));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  const deadline = Date.now() + 30_000;
  while (!out.includes('Ctrl-C drains and stops.')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      process.kill(-child.pid, 'SIGKILL');
      throw new Error(`corpc run did not start:\n${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const port = Number(/^ {2}unit kv\s+\S+:(\d+)/m.exec(out)?.[1]);
  const httpPort = Number(/^ {2}http entry\s+http:\/\/\S+:(\d+)/m.exec(out)?.[1]);
  return {
    port,
    httpPort,
    /** Ctrl-C; resolves with what went wrong, or null when the group drained and exited 0. */
    async stop() {
      process.kill(-child.pid, 'SIGINT');
      const timer = setTimeout(() => process.kill(-child.pid, 'SIGKILL'), 15_000);
      const status = await exited;
      clearTimeout(timer);
      if (status !== 0) return `corpc run exited with ${status} on Ctrl-C:\n${out}`;
      if (/Unknown file extension|ERR_|Error:/.test(out)) return `corpc run printed an error:\n${out}`;
      return null;
    },
  };
}

async function post(httpPort, path, body) {
  const res = await fetch(`http://127.0.0.1:${httpPort}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return { status: res.status, body: await res.json() };
}

/** What a user does with a running service: a client, HTTP calls (one bad body), the load generator. */
async function exercise(dir, node, { client = true } = {}) {
  const server = await start(dir, node);
  let problem = null;
  try {
    if (client) {
      const script = readdirSync(join(dir, 'src')).find((file) => /^client\.m?ts$/.test(file));
      const output = JSON.parse(
        run(node, ['--import', 'corpc/register', join('src', script), String(server.port)], { cwd: dir, node }),
      );
      expect(
        output.put.version === 1 && output.got.value === 'hello' && output.got.version === 1,
        `client: ${JSON.stringify(output)}`,
      );
      expect(output.refused === 'INVALID_ARGUMENT', `a handler's RpcError reached the client as ${output.refused}`);
    }
    const good = await post(server.httpPort, '/KeyValue/Put', '{"key":"k","value":"v"}');
    expect(good.status === 200 && typeof good.body.version === 'number', `HTTP Put: ${JSON.stringify(good)}`);
    const refused = await post(server.httpPort, '/KeyValue/Put', '{"key":"","value":"v"}');
    expect(
      refused.status === 400 && refused.body.code === 'INVALID_ARGUMENT',
      `HTTP Put with an empty key: ${JSON.stringify(refused)}`,
    );
    const bad = await post(server.httpPort, '/KeyValue/Get', '{"key":5}');
    expect(
      bad.status === 400 && /field "key" must be a string/.test(bad.body.message),
      `HTTP bad body: ${JSON.stringify(bad)}`,
    );
    if (client) {
      for (const flag of [
        ['--module', 'src/generated/kv.ts'],
        ['--proto', 'proto/kv.proto'],
      ]) {
        const report = run(
          'npx',
          [
            'corpc',
            'bench',
            `127.0.0.1:${server.port}`,
            'kv.KeyValue/Put',
            ...flag,
            '-n',
            '200',
            '-c',
            '4',
            '-q',
            '-D',
            '{"key":"b","value":"x"}',
          ],
          { cwd: dir, node },
        );
        expect(/200/.test(report), `corpc bench ${flag[0]}: ${report}`);
      }
    }
  } catch (error) {
    problem = error;
  }
  const stopped = await server.stop();
  if (problem !== null) throw problem;
  expect(stopped === null, stopped);
}

console.log(`consumer test in ${work}`);
const tarball = join(
  work,
  run('npm', ['pack', '--silent', '--pack-destination', work], { cwd: repo }).trim().split('\n').pop(),
);
// One TypeScript (the current release) and one @types/node for every project, found by walking up.
run('npm', ['install', '--no-audit', '--no-fund', '--no-save', 'typescript@latest', '@types/node@24']);
const tsc = join(work, 'node_modules', '.bin', 'tsc');
const typescript = run(tsc, ['--version']).trim();

for (const type of ['module', 'commonjs']) {
  let dir = null;
  await check(
    `${type} project: install the tarball, corpc gen, tsc (${typescript}, strict, skipLibCheck: false)`,
    async () => {
      dir = createProject(type === 'module' ? 'esm' : 'cjs', type, tarball);
      run(tsc, ['-p', '.'], { cwd: dir });
    },
  );
  for (const node of nodes) {
    const version = run(node, ['--version']).trim();
    await check(
      `${type} project on Node ${version}: corpc run, a client, HTTP, a bad body, corpc bench, stop`,
      async () => {
        expect(dir !== null, 'no project');
        await exercise(dir, node);
        if (type === 'commonjs') {
          const required = JSON.parse(run(node, ['src/require.cjs'], { cwd: dir, node }));
          expect(required.same && required.status === 3, `require('corpc'): ${JSON.stringify(required)}`);
        }
      },
    );
  }
}

await check(
  'corpc/opentelemetry: without @opentelemetry/api only it fails to load; with it, it type-checks and traces calls',
  async () => {
    const dir = join(work, 'esm');
    // The API is an optional peer dependency, and corpc itself never loads it. (prom-client, which
    // corpc's runtime uses, depends on it, so npm installs it anyway: take it away to see.)
    rmSync(join(dir, 'node_modules', '@opentelemetry', 'api'), { recursive: true, force: true });
    const probe =
      "await import('corpc'); try { await import('corpc/opentelemetry'); console.log('loaded'); } catch (error) { console.log(error.code, error.message); }";
    const missing = run(process.execPath, ['--input-type=module', '-e', probe], { cwd: dir });
    expect(/^ERR_MODULE_NOT_FOUND .*'@opentelemetry\/api'/.test(missing), `without @opentelemetry/api: ${missing}`);
    run('npm', ['install', '--no-audit', '--no-fund', '@opentelemetry/api@1'], { cwd: dir });
    cpSync(join(here, 'traced.ts'), join(dir, 'src', 'traced.ts'));
    run(tsc, ['-p', '.'], { cwd: dir });
    const got = JSON.parse(
      run(process.execPath, ['--import', 'corpc/register', join('src', 'traced.ts')], { cwd: dir }),
    );
    expect(got.value === 'value of k', `a traced call: ${JSON.stringify(got)}`);
  },
);

await check('installed from a checkout (npm install <path>): corpc gen and run', async () => {
  await exercise(createProject('checkout', 'module', repo), process.execPath, { client: false });
});

await check('installed from git (npm install git+file://…): corpc gen and run', async () => {
  await exercise(createProject('git', 'module', `git+file://${repo}`), process.execPath, { client: false });
});

rmSync(work, { recursive: true, force: true });
console.log(`\n  Total:     ${passed + failed}\n  Passed:    ${passed}\n  Skipped:   0`);
process.exitCode = failed === 0 ? 0 : 1;
