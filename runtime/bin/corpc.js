#!/usr/bin/env node
// The `corpc` command. In a built package it runs dist/runtime/cli.js; inside this repository
// (no dist/), it runs the TypeScript sources through tsx with the 'corpc-source' condition, in a
// child process that receives our signals and whose exit code becomes ours.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const built = join(root, 'dist', 'runtime', 'cli.js');

if (existsSync(built)) {
  await import(built);
} else {
  const child = spawn(
    process.execPath,
    ['--conditions=corpc-source', '--import', 'tsx', join(root, 'runtime', 'cli.ts'), ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal !== null) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
