import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import type { ProtoFile } from './ast.ts';
import { check, type CheckInput } from './check.ts';
import { DiagnosticCode, DiagnosticList, type Diagnostic } from './diagnostics.ts';
import { generate, moduleOf } from './generate.ts';
import { WELL_KNOWN_FILES } from './model.ts';
import { parseProto } from './parser.ts';

/** `import "corpc/options.proto";` declares corpc's options for protoc; corpc knows them already. */
const BUILTIN_IMPORTS = new Set(['corpc/options.proto']);

export interface GeneratedModule {
  /** The output file name, relative to the output directory (`shop.ts`). */
  readonly name: string;
  /** The IDL file it comes from, as displayed. */
  readonly source: string;
  readonly code: string;
}

export interface CompileResult {
  readonly diagnostics: Diagnostic[];
  /** Empty when there are diagnostics. */
  readonly modules: GeneratedModule[];
}

/** Paths shown relative to the working directory, with '/' on every platform. */
function displayName(path: string): string {
  const shown = relative(process.cwd(), path);
  return (shown === '' || shown.startsWith('..') ? path : shown).split(sep).join('/');
}

/**
 * Parses and checks IDL files (and what they import), then generates one module per file.
 * `roots` are extra directories where imports are looked for, after the importing file's own.
 */
export function compile(files: readonly string[], roots: readonly string[] = []): CompileResult {
  const loaded = new Map<
    string,
    { file: ProtoFile; diagnostics: DiagnosticList; imports: ProtoFile[]; wellKnown: Set<string> }
  >();
  const order: string[] = [];

  const load = (path: string): ProtoFile => {
    const existing = loaded.get(path);
    if (existing !== undefined) return existing.file;
    const name = displayName(path);
    const diagnostics = new DiagnosticList(name);
    const file = parseProto(name, readFileSync(path, 'utf8'), diagnostics);
    const entry = { file, diagnostics, imports: [] as ProtoFile[], wellKnown: new Set<string>() };
    loaded.set(path, entry);
    order.push(path);
    for (const imported of file.imports) {
      if (BUILTIN_IMPORTS.has(imported.path)) continue;
      if (WELL_KNOWN_FILES.has(imported.path)) {
        entry.wellKnown.add(imported.path);
        continue;
      }
      if (imported.path.startsWith('google/protobuf/')) {
        const supported = [...WELL_KNOWN_FILES].join(', ');
        diagnostics.add(
          DiagnosticCode.UNSUPPORTED,
          imported.pos,
          `"${imported.path}": of protobuf's well-known types, corpc has ${supported}; declare the message you need`,
        );
        continue;
      }
      const found = [dirname(path), ...roots, process.cwd()]
        .map((dir) => resolve(dir, imported.path))
        .find((p) => existsSync(p));
      if (found === undefined) {
        diagnostics.add(
          DiagnosticCode.IMPORT_NOT_FOUND,
          imported.pos,
          `cannot find "${imported.path}" (looked next to ${name} and in ${[...roots, '.'].map(displayName).join(', ')})`,
        );
        continue;
      }
      entry.imports.push(load(found));
    }
    return file;
  };
  for (const file of files) load(resolve(file));

  const inputs: CheckInput[] = order.map((path) => {
    const entry = loaded.get(path)!;
    return {
      file: entry.file,
      moduleName: moduleOf(path),
      diagnostics: entry.diagnostics,
      imports: entry.imports,
      wellKnown: entry.wellKnown,
    };
  });
  const models = check(inputs);

  const byModule = new Map<string, ProtoFile>();
  for (const input of inputs) {
    const other = byModule.get(input.moduleName);
    if (other !== undefined) {
      input.diagnostics.add(
        DiagnosticCode.OUTPUT_CLASH,
        { line: 1, column: 1 },
        `both ${other.file} and ${input.file.file} would generate ${input.moduleName}.ts: rename one`,
      );
    }
    byModule.set(input.moduleName, input.file);
  }

  const diagnostics = inputs.flatMap((input) => input.diagnostics.items);
  if (diagnostics.length > 0) return { diagnostics, modules: [] };
  const modules = inputs.map((input) => ({
    name: `${input.moduleName}.ts`,
    source: input.file.file,
    code: generate(models.get(input.file)!, input.file.file),
  }));
  return { diagnostics, modules };
}
