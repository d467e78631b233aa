// `npm run build`: bundles the public entry points and the CLI into dist/ with esbuild (shared
// code split into common chunks, so the framework's singletons — the timing wheel, the request
// context storage — exist once), then emits type declarations with tsc.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: {
    'framework/index': 'framework/index.ts',
    'framework/internal': 'framework/internal.ts',
    'runtime/cli': 'runtime/cli.ts',
    'runtime/worker': 'runtime/worker.ts',
    'runtime/index': 'runtime/index.ts',
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
