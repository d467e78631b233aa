/**
 * Problems found in an IDL file. Each has a stable `code` for programs and tests, a position
 * (1-based line and column) and a message for people that says what to do; `format` prints the
 * compiler-style line `shop.proto:12:5: unknown type 'Acount' (did you mean 'Account'?) [unknown-type]`.
 */

import { closestName } from 'corpc/internal';

export const DiagnosticCode = {
  /** Not valid syntax where it appears. */
  SYNTAX: 'syntax',
  /** A proto construct corpc does not support (streams, extensions, groups, proto2…). */
  UNSUPPORTED: 'unsupported',
  UNKNOWN_TYPE: 'unknown-type',
  /** A type that exists but cannot be used there (an enum as an rpc input, a float map key…). */
  WRONG_KIND: 'wrong-kind',
  DUPLICATE_NAME: 'duplicate-name',
  DUPLICATE_NUMBER: 'duplicate-number',
  BAD_NUMBER: 'bad-number',
  RESERVED: 'reserved',
  UNKNOWN_OPTION: 'unknown-option',
  BAD_OPTION_VALUE: 'bad-option-value',
  IMPORT_NOT_FOUND: 'import-not-found',
  /** A non-optional field whose type contains itself: its default value would be infinite. */
  RECURSIVE_FIELD: 'recursive-field',
  /** Two inputs that would be generated into the same output file. */
  OUTPUT_CLASH: 'output-clash',
} as const;
export type DiagnosticCode = (typeof DiagnosticCode)[keyof typeof DiagnosticCode];

export interface Position {
  readonly line: number;
  readonly column: number;
}

export interface Diagnostic extends Position {
  readonly code: DiagnosticCode;
  /** The file as the user named it (or as an import resolved it). */
  readonly file: string;
  readonly message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.message} [${d.code}]`;
}

/** Collects the diagnostics of one file, so that all of them are reported at once. */
export class DiagnosticList {
  readonly items: Diagnostic[] = [];
  constructor(readonly file: string) {}

  add(code: DiagnosticCode, at: Position, message: string): void {
    this.items.push({ code, file: this.file, line: at.line, column: at.column, message });
  }
}

/** `(did you mean 'Account'?)` for the closest candidate, or '' when none is close enough. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const best = closestName(name, candidates);
  return best === undefined ? '' : ` (did you mean '${best}'?)`;
}
