#!/usr/bin/env node
// The `corpc` command. Inside this repository (sources present) it runs the TypeScript sources
// through tsx with the 'corpc-source' condition, in a child process that receives our signals and
// whose exit code becomes ours; in a published package (dist/ only) it runs dist/runtime/cli.js.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const source = join(root, 'runtime', 'cli.ts');

if (!existsSync(source)) {
  await import(join(root, 'dist', 'runtime', 'cli.js'));
} else {
  const child = spawn(
    process.execPath,
    ['--conditions=corpc-source', '--import', 'tsx', source, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal !== null) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
