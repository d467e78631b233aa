#!/usr/bin/env node
// The `corpc` command. It runs the CLI in a child process that receives our signals and whose exit
// code becomes ours:
// - in a development checkout (sources and tsx installed beside them: this repository, or a
//   checkout a project links to), the TypeScript sources through tsx, with the 'corpc-source'
//   condition;
// - everywhere else (a package installed from the registry, a tarball or git: dist/ only), the
//   built CLI, with corpc's own TypeScript loader, so that `corpc run x.ts` needs nothing else.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const source = join(root, 'runtime', 'cli.ts');
const built = join(root, 'dist', 'runtime', 'cli.js');

/** tsx as installed beside the sources (never the user's project's), or null. */
function tsxBesideSources() {
  if (!existsSync(source)) return null;
  try {
    return import.meta.resolve('tsx');
  } catch {
    return null;
  }
}

const tsx = tsxBesideSources();
let nodeArgs;
if (tsx !== null) {
  nodeArgs = ['--conditions=corpc-source', '--import', tsx, source];
} else if (existsSync(built)) {
  nodeArgs = ['--import', import.meta.resolve('../../dist/runtime/typescript-loader.js'), built];
} else {
  console.error(
    `corpc: ${root} has no build (dist/) and no development dependencies: run \`npm install\` there (it builds dist/)`,
  );
  process.exit(1);
}
const child = spawn(process.execPath, [...nodeArgs, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  if (signal !== null) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
