import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compile } from './compile.ts';
import { formatDiagnostic } from './diagnostics.ts';

const USAGE = `usage: corpc gen <files or dirs…> --out <dir> [--check]

Generates one TypeScript module per IDL (.proto) file: a/shop.proto → <dir>/shop.ts.
Directories are searched for .proto files recursively.

options:
  --out <dir>   where the generated modules go (required)
  --check       write nothing; exit 1 if a generated module is missing or out of date
  -h, --help    this text`;

/** Exit codes: 0 done, 1 IDL errors or (with --check) out of date, 2 bad usage. */
export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { out: { type: 'string' }, check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    return usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  if (values.out === undefined || values.out === '') return usageError('--out <dir> is required');
  if (positionals.length === 0) return usageError('name at least one .proto file or directory');

  const files: string[] = [];
  const roots: string[] = [];
  for (const input of positionals) {
    if (!existsSync(input)) return usageError(`"${input}" does not exist`);
    if (statSync(input).isDirectory()) {
      roots.push(resolve(input));
      const found = protoFiles(input);
      if (found.length === 0) return usageError(`"${input}" contains no .proto files`);
      files.push(...found);
    } else if (input.endsWith('.proto')) {
      files.push(input);
    } else {
      return usageError(`"${input}" is not a .proto file`);
    }
  }

  const result = compile(files, roots);
  if (result.diagnostics.length > 0) {
    for (const diagnostic of result.diagnostics) console.error(formatDiagnostic(diagnostic));
    const count = result.diagnostics.length;
    console.error(`corpc gen: ${count} error${count === 1 ? '' : 's'}; nothing was written`);
    return 1;
  }

  const out = values.out;
  if (values.check === true) {
    const stale = result.modules.filter((module) => {
      const path = join(out, module.name);
      return !existsSync(path) || readFileSync(path, 'utf8') !== module.code;
    });
    for (const module of stale) console.error(`${join(out, module.name)} is out of date with ${module.source}`);
    if (stale.length > 0) {
      console.error(
        `corpc gen --check: ${stale.length} generated file(s) out of date; run corpc gen ${argv.filter((a) => a !== '--check').join(' ')}`,
      );
      return 1;
    }
    console.log(`corpc gen --check: ${result.modules.length} generated file(s) up to date`);
    return 0;
  }
  mkdirSync(out, { recursive: true });
  for (const module of result.modules) {
    const path = join(out, module.name);
    if (existsSync(path) && readFileSync(path, 'utf8') === module.code) continue;
    writeFileSync(path, module.code);
    console.log(`wrote ${path}`);
  }
  return 0;
}

function usageError(problem: string): number {
  console.error(`corpc gen: ${problem}\n\n${USAGE}`);
  return 2;
}

/** The .proto files under a directory, sorted, so that output order never depends on the file system. */
function protoFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) found.push(...protoFiles(path));
    } else if (entry.name.endsWith('.proto')) {
      found.push(path);
    }
  }
  return found;
}
