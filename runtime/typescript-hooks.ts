/**
 * Module hooks that let `corpc run`, `corpc bench --module/--proto` and config files load
 * TypeScript with nothing but corpc installed: a `.ts` or `.mts` file is transpiled by esbuild (types
 * removed, nothing checked: `tsc --noEmit` is the type check) and loaded as an ES module, whatever
 * package.json `type` says, on Node 20 as on Node 24 (where they also take over from Node's type
 * stripping: one behaviour on both). Imports name the `.ts` file, as
 * generated code does (`./kv.ts`, with tsconfig's `allowImportingTsExtensions`).
 * Registered in the hooks thread by typescript-loader.ts (`node --import`, set by runtime/bin/corpc.js).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { LoadHook } from 'node:module';
import { transform } from 'esbuild';

const TYPESCRIPT = /\.m?ts$/;

export const load: LoadHook = async (url, context, nextLoad) => {
  if (!url.startsWith('file:') || !TYPESCRIPT.test(new URL(url).pathname)) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const { code } = await transform(await readFile(path, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    target: `node${process.versions.node}`,
    sourcefile: path,
    sourcemap: 'inline',
  });
  return { format: 'module', source: code, shortCircuit: true };
};
