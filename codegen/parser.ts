import type {
  ConstantValue,
  EnumDecl,
  FieldDecl,
  MessageDecl,
  OneofDecl,
  OptionDecl,
  ProtoFile,
  RpcDecl,
  ServiceDecl,
  TypeRef,
} from './ast.ts';
import { DiagnosticCode, DiagnosticList, type Position } from './diagnostics.ts';
import { tokenize, type Token } from './lexer.ts';

/** The largest field number proto allows (2^29 - 1). */
export const MAX_FIELD_NUMBER = 536_870_911;

/** Thrown inside one statement; the parser records it and skips to the next statement. */
class Abort extends Error {}

/**
 * A recursive-descent parser for the proto3 subset corpc uses. It never stops at the first
 * problem: a bad statement is reported and skipped, and parsing goes on, so that all of a file's
 * errors are reported at once.
 */
export function parseProto(file: string, source: string, diagnostics = new DiagnosticList(file)): ProtoFile {
  return new Parser(file, tokenize(source, diagnostics), diagnostics).parseFile();
}

class Parser {
  private index = 0;

  constructor(
    private readonly file: string,
    private readonly tokens: Token[],
    private readonly diagnostics: DiagnosticList,
  ) {}

  parseFile(): ProtoFile {
    const result: ProtoFile = {
      file: this.file,
      package: undefined,
      imports: [],
      options: [],
      messages: [],
      enums: [],
      services: [],
    };
    let first = true;
    while (this.peek().kind !== 'eof') {
      this.statement(() => {
        const token = this.peek();
        if (this.isWord('syntax')) this.syntax(first);
        else if (this.isWord('edition'))
          this.unsupported(this.next(), 'editions are not supported: use syntax = "proto3";');
        else if (this.isWord('package')) this.packageDecl(result);
        else if (this.isWord('import')) this.importDecl(result);
        else if (this.isWord('option')) result.options.push(this.option());
        else if (this.isWord('message')) result.messages.push(this.message());
        else if (this.isWord('enum')) result.enums.push(this.enumDecl());
        else if (this.isWord('service')) result.services.push(this.service());
        else if (this.isWord('extend')) this.unsupported(token, 'extensions are not supported by corpc');
        else if (this.isSymbol(';')) this.next();
        else
          this.fail(
            token,
            `expected syntax, package, import, option, message, enum or service, got ${describe(token)}`,
          );
      });
      first = false;
    }
    return result;
  }

  // ---- statements ----

  private syntax(first: boolean): void {
    const keyword = this.next();
    if (!first)
      this.diagnostics.add(DiagnosticCode.SYNTAX, keyword, 'the syntax statement must come first in the file');
    this.expectSymbol('=');
    const version = this.expect('string', 'a string such as "proto3"');
    this.expectSymbol(';');
    if (version.text !== 'proto3') {
      this.diagnostics.add(
        DiagnosticCode.UNSUPPORTED,
        version,
        `syntax "${version.text}" is not supported: corpc reads proto3 (syntax = "proto3";)`,
      );
    }
  }

  private packageDecl(result: ProtoFile): void {
    const keyword = this.next();
    const name = this.fullIdent();
    this.expectSymbol(';');
    if (result.package !== undefined)
      this.diagnostics.add(DiagnosticCode.DUPLICATE_NAME, keyword, 'a file may declare only one package');
    else result.package = name;
  }

  private importDecl(result: ProtoFile): void {
    this.next();
    if (this.isWord('public') || this.isWord('weak')) this.next();
    const path = this.expect('string', 'the imported file in quotes');
    this.expectSymbol(';');
    result.imports.push({ path: path.text, pos: path });
  }

  private option(): OptionDecl {
    this.next(); // option
    const option = this.optionBody();
    this.expectSymbol(';');
    return option;
  }

  /** `name = constant`, the part shared by `option …;` and `[…]` field options. */
  private optionBody(): OptionDecl {
    const pos = this.peek();
    let name: string;
    if (this.isSymbol('(')) {
      this.next();
      name = `(${this.fullIdent()})`;
      this.expectSymbol(')');
    } else {
      name = this.expect('ident', 'an option name').text;
    }
    while (this.isSymbol('.')) {
      this.next();
      name += `.${this.expect('ident', 'an option name').text}`;
    }
    this.expectSymbol('=');
    const valuePos = this.peek();
    if (this.isSymbol('{')) {
      this.skipBlock();
      return { name, pos, value: undefined, valueKind: 'aggregate', valuePos };
    }
    const { value, kind } = this.constant();
    return { name, pos, value, valueKind: kind, valuePos };
  }

  private constant(): { value: ConstantValue; kind: OptionDecl['valueKind'] } {
    const token = this.peek();
    if (token.kind === 'string') {
      let text = '';
      while (this.peek().kind === 'string') text += this.next().text;
      return { value: text, kind: 'string' };
    }
    let sign = 1;
    if (this.isSymbol('-') || this.isSymbol('+')) sign = this.next().text === '-' ? -1 : 1;
    const value = this.next();
    if (value.kind === 'int') return { value: sign * Number(value.text), kind: 'int' };
    if (value.kind === 'float') return { value: sign * Number(value.text), kind: 'float' };
    if (value.kind === 'ident') {
      if (value.text === 'inf' || value.text === 'nan')
        return { value: sign * Number(value.text === 'inf' ? Infinity : NaN), kind: 'float' };
      if (value.text === 'true' || value.text === 'false') return { value: value.text === 'true', kind: 'bool' };
      let name = value.text;
      while (this.isSymbol('.')) {
        this.next();
        name += `.${this.expect('ident', 'an identifier').text}`;
      }
      return { value: name, kind: 'ident' };
    }
    return this.fail(value, `expected a constant (number, string, true/false or a name), got ${describe(value)}`);
  }

  private message(): MessageDecl {
    this.next();
    const name = this.expect('ident', 'a message name');
    const message: MessageDecl = {
      name: name.text,
      pos: name,
      fields: [],
      oneofs: [],
      messages: [],
      enums: [],
      reservedNumbers: [],
      reservedNames: [],
    };
    this.block(() => {
      const token = this.peek();
      if (this.isWord('message')) message.messages.push(this.message());
      else if (this.isWord('enum')) message.enums.push(this.enumDecl());
      else if (this.isWord('oneof')) this.oneof(message);
      else if (this.isWord('reserved')) this.reserved(message.reservedNumbers, message.reservedNames);
      else if (this.isWord('option')) this.option();
      else if (this.isWord('extensions')) this.unsupported(token, 'extension ranges are not supported by corpc');
      else if (this.isWord('extend')) this.unsupported(token, 'extensions are not supported by corpc');
      else if (this.isSymbol(';')) this.next();
      else message.fields.push(this.field(undefined));
    });
    return message;
  }

  private field(oneof: OneofDecl | undefined): FieldDecl {
    let label: FieldDecl['label'];
    const first = this.peek();
    if (this.isWord('required')) {
      this.unsupported(first, "'required' does not exist in proto3: drop it (every proto3 field has a default)");
    }
    if (this.isWord('group'))
      this.unsupported(first, 'groups are not supported: declare a nested message and a field of that type');
    if ((this.isWord('optional') || this.isWord('repeated')) && !this.isSymbolAt(1, '=')) {
      if (oneof !== undefined) this.fail(first, `a field of oneof '${oneof.name}' cannot be ${first.text}`);
      label = this.next().text as 'optional' | 'repeated';
    }
    let type: TypeRef;
    let mapKey: TypeRef | undefined;
    if (this.isWord('map') && this.isSymbolAt(1, '<')) {
      const mapToken = this.next();
      if (label !== undefined) this.fail(mapToken, `a map field cannot be ${label}`);
      if (oneof !== undefined) this.fail(mapToken, `a map field cannot be part of oneof '${oneof.name}'`);
      this.next();
      mapKey = this.typeRef();
      this.expectSymbol(',');
      type = this.typeRef();
      this.expectSymbol('>');
    } else {
      type = this.typeRef();
    }
    const name = this.expect('ident', 'a field name');
    this.expectSymbol('=');
    const number = this.expect('int', 'a field number');
    this.fieldOptions();
    this.expectSymbol(';');
    return {
      name: name.text,
      pos: name,
      number: Number(number.text),
      numberPos: number,
      label,
      type,
      mapKey,
      oneof: oneof?.name,
    };
  }

  /** `[deprecated = true, json_name = "x"]`: parsed and ignored; corpc options do not apply to fields. */
  private fieldOptions(): OptionDecl[] {
    const options: OptionDecl[] = [];
    if (!this.isSymbol('[')) return options;
    this.next();
    for (;;) {
      options.push(this.optionBody());
      if (!this.isSymbol(',')) break;
      this.next();
    }
    this.expectSymbol(']');
    return options;
  }

  private oneof(message: MessageDecl): void {
    this.next();
    const name = this.expect('ident', 'a oneof name');
    const oneof: OneofDecl = { name: name.text, pos: name };
    message.oneofs.push(oneof);
    this.block(() => {
      if (this.isWord('option')) this.option();
      else if (this.isSymbol(';')) this.next();
      else message.fields.push(this.field(oneof));
    });
  }

  private reserved(numbers: MessageDecl['reservedNumbers'], names: string[]): void {
    this.next();
    if (this.peek().kind === 'string') {
      for (;;) {
        names.push(this.expect('string', 'a reserved name in quotes').text);
        if (!this.isSymbol(',')) break;
        this.next();
      }
    } else {
      for (;;) {
        const from = this.signedInt();
        let to = from;
        if (this.isWord('to')) {
          this.next();
          if (this.isWord('max')) {
            this.next();
            to = MAX_FIELD_NUMBER;
          } else {
            to = this.signedInt();
          }
        }
        numbers.push({ from, to });
        if (!this.isSymbol(',')) break;
        this.next();
      }
    }
    this.expectSymbol(';');
  }

  private enumDecl(): EnumDecl {
    this.next();
    const name = this.expect('ident', 'an enum name');
    const decl: EnumDecl = { name: name.text, pos: name, values: [], options: [] };
    this.block(() => {
      if (this.isWord('option')) decl.options.push(this.option());
      else if (this.isWord('reserved')) this.reserved([], []);
      else if (this.isSymbol(';')) this.next();
      else {
        const value = this.expect('ident', 'an enum value name');
        this.expectSymbol('=');
        const number = this.signedInt();
        this.fieldOptions();
        this.expectSymbol(';');
        decl.values.push({ name: value.text, pos: value, number });
      }
    });
    return decl;
  }

  private service(): ServiceDecl {
    this.next();
    const name = this.expect('ident', 'a service name');
    const service: ServiceDecl = { name: name.text, pos: name, rpcs: [], options: [] };
    this.block(() => {
      const token = this.peek();
      if (this.isWord('option')) service.options.push(this.option());
      else if (this.isWord('rpc')) service.rpcs.push(this.rpc());
      else if (this.isSymbol(';')) this.next();
      else if (this.isWord('stream'))
        this.unsupported(
          token,
          "a stream declared on its own is not supported: write 'stream' inside an rpc, as in rpc Watch(Req) returns (stream Event);",
        );
      else this.fail(token, `expected rpc or option in service '${service.name}', got ${describe(token)}`);
    });
    return service;
  }

  private rpc(): RpcDecl {
    this.next();
    const name = this.expect('ident', 'an rpc name');
    this.expectSymbol('(');
    const inputStream = this.streamWord();
    const input = this.typeRef();
    this.expectSymbol(')');
    const returns = this.peek();
    if (!this.isWord('returns'))
      this.fail(returns, `expected 'returns' after the request type, got ${describe(returns)}`);
    this.next();
    this.expectSymbol('(');
    const outputStream = this.streamWord();
    const output = this.typeRef();
    this.expectSymbol(')');
    const rpc: RpcDecl = { name: name.text, pos: name, input, output, inputStream, outputStream, options: [] };
    if (this.isSymbol('{')) {
      this.block(() => {
        if (this.isWord('option')) rpc.options.push(this.option());
        else if (this.isSymbol(';')) this.next();
        else this.fail(this.peek(), `expected option in rpc '${rpc.name}', got ${describe(this.peek())}`);
      });
    } else {
      this.expectSymbol(';');
    }
    return rpc;
  }

  /**
   * `stream` before an rpc's request or response type. Only a keyword there when a type follows:
   * `rpc A(stream)` names a message called `stream`, `rpc A(stream.B)` one in package `stream`,
   * `rpc A(stream .B)` streams `.B`.
   */
  private streamWord(): boolean {
    if (!this.isWord('stream')) return false;
    const word = this.peek();
    const after = this.peekAt(1);
    const adjacent = after.line === word.line && after.column === word.column + word.text.length;
    if (after.kind !== 'ident' && !(after.kind === 'symbol' && after.text === '.' && !adjacent)) return false;
    this.next();
    return true;
  }

  // ---- pieces ----

  private typeRef(): TypeRef {
    const pos = this.peek();
    let name = '';
    if (this.isSymbol('.')) name = this.next().text;
    name += this.fullIdent();
    return { name, pos };
  }

  private fullIdent(): string {
    let name = this.expect('ident', 'a name').text;
    while (this.isSymbol('.')) {
      this.next();
      name += `.${this.expect('ident', 'a name').text}`;
    }
    return name;
  }

  private signedInt(): number {
    const negative = this.isSymbol('-');
    if (negative) this.next();
    const token = this.expect('int', 'an integer');
    return (negative ? -1 : 1) * Number(token.text);
  }

  /** `{ item* }`: each item is one statement, with its own error recovery. */
  private block(item: () => void): void {
    this.expectSymbol('{');
    while (!this.isSymbol('}')) {
      if (this.peek().kind === 'eof') this.fail(this.peek(), "unexpected end of file: a '}' is missing");
      this.statement(item);
    }
    this.next();
  }

  /** Runs one statement; on a syntax error, records it and skips to the statement's end. */
  private statement(body: () => void): void {
    const start = this.index;
    try {
      body();
    } catch (error) {
      if (!(error instanceof Abort)) throw error;
      if (this.index === start && this.peek().kind !== 'eof' && !this.isSymbol('}')) this.next();
      this.synchronize();
    }
  }

  /** Skips to just after the next `;` or block at this depth, or to (not past) the enclosing `}`. */
  private synchronize(): void {
    let depth = 0;
    for (;;) {
      const token = this.peek();
      if (token.kind === 'eof') return;
      if (token.kind === 'symbol') {
        if (token.text === '{') depth++;
        else if (token.text === '}') {
          if (depth === 0) return;
          depth--;
          if (depth === 0) {
            this.next();
            return;
          }
        } else if (token.text === ';' && depth === 0) {
          this.next();
          return;
        }
      }
      this.next();
    }
  }

  private skipBlock(): void {
    let depth = 0;
    do {
      const token = this.next();
      if (token.kind === 'eof') this.fail(token, "unexpected end of file: a '}' is missing");
      if (token.text === '{' && token.kind === 'symbol') depth++;
      if (token.text === '}' && token.kind === 'symbol') depth--;
    } while (depth > 0);
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private peekAt(offset: number): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const token = this.tokens[this.index]!;
    if (token.kind !== 'eof') this.index++;
    return token;
  }

  private isWord(word: string): boolean {
    const token = this.peek();
    return token.kind === 'ident' && token.text === word;
  }

  private isSymbol(symbol: string): boolean {
    return this.isSymbolAt(0, symbol);
  }

  private isSymbolAt(offset: number, symbol: string): boolean {
    const token = this.peekAt(offset);
    return token.kind === 'symbol' && token.text === symbol;
  }

  private expect(kind: Token['kind'], what: string): Token {
    const token = this.peek();
    if (token.kind !== kind) this.fail(token, `expected ${what}, got ${describe(token)}`);
    return this.next();
  }

  private expectSymbol(symbol: string): Token {
    const token = this.peek();
    if (token.kind !== 'symbol' || token.text !== symbol)
      this.fail(token, `expected '${symbol}', got ${describe(token)}`);
    return this.next();
  }

  private fail(at: Position, message: string): never {
    this.diagnostics.add(DiagnosticCode.SYNTAX, at, message);
    throw new Abort(message);
  }

  private unsupported(at: Position, message: string): never {
    this.diagnostics.add(DiagnosticCode.UNSUPPORTED, at, message);
    throw new Abort(message);
  }
}

function describe(token: Token): string {
  if (token.kind === 'eof') return 'end of file';
  if (token.kind === 'string') return `"${token.text}"`;
  return `'${token.text}'`;
}
