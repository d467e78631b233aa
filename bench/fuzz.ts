/**
 * `npm run bench -- fuzz --seconds 10` (or `node --conditions=corpc-source --import tsx bench/fuzz.ts --seconds 10`):
 * starts an Echo server in its own process and throws hostile connections at it for the given
 * time (random bytes, wrong prefaces, lying length prefixes, truncated frames, unknown kinds,
 * wrong header types, hostile MessagePack), checking after every batch that a good client is
 * still served. Prints executions and findings; exits non-zero on any finding (a crash, a
 * connection closed without a GOAWAY, a message that leaks internals, a server that stopped
 * serving).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createClient } from 'corpc';
import { Echo } from '../services/echo/echo.ts';
import { fuzz, type FuzzReport } from '../test/fuzz/attacks.ts';
import { parseScenarioArgs, numberOption } from './args.ts';

const USAGE = `usage: fuzz.ts [--seconds N] [--seed N] [--concurrency N] [--json]
  --seconds      how long to fuzz (default 10)
  --seed         fast-check seed (default: from the clock; printed)
  --concurrency  attacking connections at once (default 8)
  --json         print the report as JSON`;

export async function main(argv: string[]): Promise<FuzzReport> {
  const { values } = parseScenarioArgs(
    'fuzz',
    {
      args: argv,
      strict: true,
      options: {
        seconds: { type: 'string' },
        seed: { type: 'string' },
        concurrency: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    },
    USAGE,
  );
  const seconds = numberOption('--seconds', values.seconds ?? '10', { exclusiveMin: true });
  const seed =
    values.seed === undefined ? Date.now() % 1_000_000_007 : numberOption('--seed', values.seed, { integer: true });
  const concurrency = numberOption('--concurrency', values.concurrency ?? '8', { integer: true, min: 1 });

  const file = fileURLToPath(new URL('../test/fixtures/fuzz-server.ts', import.meta.url));
  const child = spawn(process.execPath, ['--conditions=corpc-source', '--import', 'tsx', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const match = /listening (\d+)/.exec(chunk.toString());
      if (match !== null) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`the fuzz server exited (${code}) before listening:\n${stderr}`)));
  });
  let exited: string | null = null;
  child.once(
    'exit',
    (code, signal) => (exited = `the server process exited (${signal ?? code}):\n${stderr.slice(-2000)}`),
  );

  const client = createClient(Echo, `127.0.0.1:${port}`, { timeoutMs: 2000 });
  const started = performance.now();
  let report: FuzzReport;
  try {
    report = await fuzz(port, {
      seconds,
      seed,
      concurrency,
      check: async () => {
        if (exited !== null) throw new Error(exited);
        const reply = await client.echo({ text: 'still there?' });
        if (reply.text !== 'still there?') throw new Error(`a good call got a wrong answer: ${JSON.stringify(reply)}`);
      },
    });
    if (exited !== null) report.findings.push({ finding: exited, input: '' });
  } finally {
    client.destroy();
    child.kill('SIGKILL');
  }
  const elapsed = (performance.now() - started) / 1000;
  if (values.json) {
    console.log(JSON.stringify({ seconds: elapsed, seed, ...report }, null, 2));
  } else {
    console.log(
      `fuzz: ${report.executions} executions in ${elapsed.toFixed(1)} s (seed ${seed}), ${report.findings.length} findings`,
    );
    console.log(
      `  connections closed with a GOAWAY: ${report.closedWithGoaway}; connections that got answers: ${report.answered}`,
    );
    for (const { finding, input } of report.findings) console.log(`  FINDING: ${finding}\n    input: ${input}`);
  }
  if (report.findings.length > 0) process.exitCode = 1;
  return report;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
