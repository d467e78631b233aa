import { DiagnosticCode, type DiagnosticList, type Position } from './diagnostics.ts';

/** The tokens of the proto3 grammar: identifiers, numbers, strings and one-character symbols. */
export type TokenKind = 'ident' | 'int' | 'float' | 'string' | 'symbol' | 'eof';

export interface Token extends Position {
  readonly kind: TokenKind;
  /** The source text (for strings: the decoded value). */
  readonly text: string;
}

const SYMBOLS = new Set(['{', '}', '(', ')', '[', ']', '<', '>', ';', ',', '=', '.', '-', '+', ':', '/']);

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '0': '\0',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '?': '?',
};

/** Splits a file into tokens; comments and whitespace are dropped, problems go to `diagnostics`. */
export function tokenize(source: string, diagnostics: DiagnosticList): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const at = (index: number): Position => ({ line, column: index - lineStart + 1 });

  while (i < source.length) {
    const c = source[i]!;
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
    } else if (c === '/' && source[i + 1] === '/') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (c === '/' && source[i + 1] === '*') {
      const start = at(i);
      i += 2;
      while (i < source.length && !(source[i] === '*' && source[i + 1] === '/')) {
        if (source[i] === '\n') {
          line++;
          lineStart = i + 1;
        }
        i++;
      }
      if (i >= source.length) diagnostics.add(DiagnosticCode.SYNTAX, start, 'unterminated comment: add */');
      i = Math.min(i + 2, source.length);
    } else if (isIdentStart(c)) {
      const start = i;
      while (i < source.length && (isIdentStart(source[i]!) || isDigit(source[i]!))) i++;
      tokens.push({ kind: 'ident', text: source.slice(start, i), ...at(start) });
    } else if (isDigit(c) || (c === '.' && isDigit(source[i + 1] ?? ''))) {
      const start = i;
      let float = false;
      if (c === '0' && (source[i + 1] === 'x' || source[i + 1] === 'X')) {
        i += 2;
        while (i < source.length && /[0-9a-fA-F]/.test(source[i]!)) i++;
      } else {
        while (i < source.length && (isDigit(source[i]!) || source[i] === '.')) {
          if (source[i] === '.') float = true;
          i++;
        }
        if (source[i] === 'e' || source[i] === 'E') {
          float = true;
          i++;
          if (source[i] === '+' || source[i] === '-') i++;
          while (i < source.length && isDigit(source[i]!)) i++;
        }
      }
      tokens.push({ kind: float ? 'float' : 'int', text: source.slice(start, i), ...at(start) });
    } else if (c === '"' || c === "'") {
      const start = at(i);
      let value = '';
      i++;
      while (i < source.length && source[i] !== c && source[i] !== '\n') {
        if (source[i] === '\\' && i + 1 < source.length) {
          const e = source[i + 1]!;
          value += ESCAPES[e] ?? e;
          i += 2;
        } else {
          value += source[i];
          i++;
        }
      }
      if (source[i] !== c) {
        diagnostics.add(DiagnosticCode.SYNTAX, start, `unterminated string: close it with ${c} on the same line`);
      } else {
        i++;
      }
      tokens.push({ kind: 'string', text: value, ...start });
    } else if (SYMBOLS.has(c)) {
      tokens.push({ kind: 'symbol', text: c, ...at(i) });
      i++;
    } else {
      diagnostics.add(DiagnosticCode.SYNTAX, at(i), `unexpected character '${c}'`);
      i++;
    }
  }
  tokens.push({ kind: 'eof', text: 'end of file', ...at(i) });
  return tokens;
}
