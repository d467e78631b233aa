/**
 * Module hooks that let `corpc run`, `corpc bench --module/--proto` and config files load
 * TypeScript with nothing but corpc installed: a `.ts` or `.mts` file is transpiled by esbuild (types
 * removed, nothing checked: `tsc --noEmit` is the type check) and loaded as an ES module, whatever
 * package.json `type` says, on Node 20 as on Node 24 (where they also take over from Node's type
 * stripping, so enums and parameter properties work on both). A relative `./x.js` that does not
 * exist but `./x.ts` does resolves to the `.ts` file, as tsc's NodeNext resolution allows.
 * Registered in the hooks thread by typescript-loader.ts (`node --import`, set by runtime/bin/corpc.js).
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LoadHook, ResolveHook } from 'node:module';
import { transform } from 'esbuild';

const TYPESCRIPT = /\.m?ts$/;

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const relative = specifier.startsWith('./') || specifier.startsWith('../');
    if (!relative || !/\.m?js$/.test(specifier) || context.parentURL === undefined) throw error;
    const url = new URL(specifier.replace(/js$/, 'ts'), context.parentURL);
    if (!existsSync(fileURLToPath(url))) throw error;
    return { url: url.href, shortCircuit: true };
  }
};

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
