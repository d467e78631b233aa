// `npm run build` (also npm's `prepare`, so that an install from git or from a checkout has dist/):
// bundles the public entry points and the CLI into dist/ with esbuild (shared code split into
// common chunks, so the framework's singletons — the timing wheel, the request context storage —
// exist once), writes the CommonJS entries, then emits type declarations with tsc.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: {
    'framework/index': 'framework/index.ts',
    'framework/internal': 'framework/internal.ts',
    'framework/opentelemetry': 'framework/opentelemetry.ts',
    'runtime/cli': 'runtime/cli.ts',
    'runtime/worker': 'runtime/worker.ts',
    'runtime/index': 'runtime/index.ts',
    'runtime/typescript-loader': 'runtime/typescript-loader.ts',
    'runtime/typescript-hooks': 'runtime/typescript-hooks.ts',
  },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  conditions: ['corpc-source'],
  sourcemap: true,
  logLevel: 'info',
});
execFileSync(
  process.execPath,
  ['node_modules/typescript/bin/tsc', '--emitDeclarationOnly', '--outDir', 'dist', '-p', 'tsconfig.build.json'],
  { stdio: 'inherit' },
);

// The `require` entries: `require('corpc')` loads the same ES module as `import` (Node's
// require(esm)), never a second copy of the library; where Node cannot, it says so.
for (const entry of ['framework/index', 'framework/internal', 'framework/opentelemetry', 'runtime/index']) {
  const file = entry.slice(entry.indexOf('/') + 1);
  writeFileSync(
    join('dist', `${entry}.cjs`),
    `'use strict';
// corpc is an ES module; this loads it (not a copy of it) for require().
try {
  module.exports = require('./${file}.js');
} catch (error) {
  if (error === null || typeof error !== 'object' || error.code !== 'ERR_REQUIRE_ESM') throw error;
  throw new Error('corpc is an ES module: require() of it needs Node.js 20.19 or later (this is ' + process.version + '); use import, or upgrade Node');
}
`,
  );
}

// The declarations name Node's types (Buffer, EventEmitter…): say so, or a project whose tsconfig
// has \`types: []\` (TypeScript 6 and later by default) cannot check them.
for (const file of readdirSync('dist', { recursive: true, encoding: 'utf8' })) {
  if (!file.endsWith('.d.ts')) continue;
  const path = join('dist', file);
  writeFileSync(path, `/// <reference types="node" />\n${readFileSync(path, 'utf8')}`);
}
