import { CLIENT_RESERVED_NAMES } from 'corpc/internal';
import type { EnumDecl, FieldDecl, MessageDecl, OptionDecl, ProtoFile, RpcDecl, ServiceDecl, TypeRef } from './ast.ts';
import { DiagnosticCode, didYouMean, type DiagnosticList } from './diagnostics.ts';
import {
  isScalar,
  lowerCamelField,
  lowerCamelMethod,
  type EnumInfo,
  type FieldInfo,
  type FileModel,
  type MessageInfo,
  type MethodInfo,
  type ServiceInfo,
  type ValueType,
  WELL_KNOWN_TYPES,
} from './model.ts';
import { MAX_FIELD_NUMBER } from './parser.ts';

/**
 * The corpc options, written as proto custom options: `option (corpc.timeout_ms) = 300;`.
 * `where` says which declaration each one belongs on.
 */
export const CORPC_OPTIONS = {
  '(corpc.business_priority)': { where: 'rpc', kind: 'int', min: 0, max: 63 },
  '(corpc.timeout_ms)': { where: 'rpc', kind: 'int', min: 1, max: 2_147_483_647 },
  '(corpc.idempotent)': { where: 'rpc', kind: 'bool' },
  '(corpc.path)': { where: 'rpc', kind: 'string' },
  '(corpc.entry)': { where: 'service', kind: 'bool' },
} as const satisfies Record<
  string,
  { where: 'rpc' | 'service'; kind: 'int' | 'bool' | 'string'; min?: number; max?: number }
>;
type CorpcOption = keyof typeof CORPC_OPTIONS;

type Symbol = { kind: 'message'; info: MessageInfo } | { kind: 'enum'; info: EnumInfo } | { kind: 'service' };

export interface CheckInput {
  readonly file: ProtoFile;
  readonly moduleName: string;
  readonly diagnostics: DiagnosticList;
  /** The files this one imports (already parsed). */
  readonly imports: ProtoFile[];
  /** The well-known type files it imports (`google/protobuf/timestamp.proto`), built in. */
  readonly wellKnown: ReadonlySet<string>;
}

/**
 * Resolves names and checks the rules proto3 and corpc add to the grammar: known types, unique
 * names and numbers, valid map keys, rpc types that are messages, corpc options with valid values.
 */
export function check(inputs: readonly CheckInput[]): Map<ProtoFile, FileModel> {
  const symbols = new Map<string, Symbol>();
  const symbolFile = new Map<string, ProtoFile>();
  const diagnosticsOf = new Map<ProtoFile, DiagnosticList>();
  const models = new Map<ProtoFile, FileModel>();

  // 1. Declare every message and enum of every file under its full name.
  for (const input of inputs) {
    diagnosticsOf.set(input.file, input.diagnostics);
    const model: FileModel = { file: input.file, moduleName: input.moduleName, messages: [], enums: [], services: [] };
    models.set(input.file, model);
    const prefix = input.file.package === undefined ? '' : `${input.file.package}.`;
    const declare = (fullName: string, symbol: Symbol, at: { name: string; pos: { line: number; column: number } }) => {
      const existing = symbolFile.get(fullName);
      if (existing !== undefined) {
        const where = existing === input.file ? '' : ` in ${existing.file}`;
        input.diagnostics.add(DiagnosticCode.DUPLICATE_NAME, at.pos, `'${at.name}' is already defined${where}`);
        return;
      }
      symbols.set(fullName, symbol);
      symbolFile.set(fullName, input.file);
    };
    const walkEnum = (decl: EnumDecl, scope: string, tsScope: string) => {
      const info: EnumInfo = { fullName: scope + decl.name, tsName: tsScope + decl.name, decl, file: input.file };
      model.enums.push(info);
      declare(info.fullName, { kind: 'enum', info }, decl);
    };
    const walkMessage = (decl: MessageDecl, scope: string, tsScope: string) => {
      const info: MessageInfo = {
        fullName: scope + decl.name,
        tsName: tsScope + decl.name,
        decl,
        file: input.file,
        fields: [],
        oneofs: new Map(),
      };
      model.messages.push(info);
      declare(info.fullName, { kind: 'message', info }, decl);
      for (const nested of decl.messages) walkMessage(nested, `${info.fullName}.`, `${info.tsName}_`);
      for (const nested of decl.enums) walkEnum(nested, `${info.fullName}.`, `${info.tsName}_`);
    };
    for (const decl of input.file.messages) walkMessage(decl, prefix, '');
    for (const decl of input.file.enums) walkEnum(decl, prefix, '');
    for (const service of input.file.services) declare(prefix + service.name, { kind: 'service' }, service);
  }

  // 2. Resolve and check each file against what it can see: itself and its imports.
  for (const input of inputs) {
    const model = models.get(input.file)!;
    const visible = new Set<ProtoFile>([input.file, ...input.imports]);
    const checker = new FileChecker(input, model, symbols, symbolFile, visible);
    checker.run();
  }
  return models;
}

class FileChecker {
  private readonly d: DiagnosticList;
  private readonly prefix: string;

  constructor(
    private readonly input: CheckInput,
    private readonly model: FileModel,
    private readonly symbols: Map<string, Symbol>,
    private readonly symbolFile: Map<string, ProtoFile>,
    private readonly visible: Set<ProtoFile>,
  ) {
    this.d = input.diagnostics;
    this.prefix = input.file.package === undefined ? '' : `${input.file.package}.`;
  }

  run(): void {
    for (const option of this.input.file.options) this.corpcOption(option, 'file');
    for (const message of this.model.messages) this.message(message);
    for (const info of this.model.enums) this.enumDecl(info.decl);
    this.recursion();
    const tsNames = new Set<string>();
    for (const service of this.input.file.services) {
      if (tsNames.has(service.name)) continue;
      tsNames.add(service.name);
      this.model.services.push(this.service(service));
    }
  }

  private message(info: MessageInfo): void {
    const decl = info.decl;
    const scope = info.fullName;
    const byNumber = new Map<number, FieldDecl>();
    const byName = new Map<string, FieldDecl>();
    const byTsName = new Map<string, FieldDecl>();
    const oneofNames = new Set<string>();
    for (const oneof of decl.oneofs) {
      if (oneofNames.has(oneof.name))
        this.d.add(
          DiagnosticCode.DUPLICATE_NAME,
          oneof.pos,
          `oneof '${oneof.name}' is already defined in '${decl.name}'`,
        );
      oneofNames.add(oneof.name);
      info.oneofs.set(oneof.name, []);
    }
    for (const field of decl.fields) {
      if (byName.has(field.name)) {
        this.d.add(
          DiagnosticCode.DUPLICATE_NAME,
          field.pos,
          `field '${field.name}' is already defined in '${decl.name}'`,
        );
        continue;
      }
      byName.set(field.name, field);
      const tsName = lowerCamelField(field.name);
      const clash = byTsName.get(tsName);
      if (clash !== undefined) {
        this.d.add(
          DiagnosticCode.DUPLICATE_NAME,
          field.pos,
          `fields '${clash.name}' and '${field.name}' both become '${tsName}' in TypeScript: rename one`,
        );
      }
      byTsName.set(tsName, field);
      if (decl.reservedNames.includes(field.name)) {
        this.d.add(DiagnosticCode.RESERVED, field.pos, `field name '${field.name}' is reserved in '${decl.name}'`);
      }
      this.fieldNumber(field, decl, byNumber);
      const type = this.resolveValue(field.type, scope);
      let key: FieldInfo['key'];
      if (field.mapKey !== undefined) {
        const keyName = field.mapKey.name;
        if (!isScalar(keyName) || keyName === 'double' || keyName === 'float' || keyName === 'bytes') {
          this.d.add(
            DiagnosticCode.WRONG_KIND,
            field.mapKey.pos,
            `'${keyName}' cannot be a map key: use string, bool or an integer type`,
          );
        } else {
          key = keyName;
        }
      }
      if (type === undefined || (field.mapKey !== undefined && key === undefined)) continue;
      const cardinality: FieldInfo['cardinality'] =
        field.mapKey !== undefined
          ? 'map'
          : field.label === 'repeated'
            ? 'repeated'
            : field.label === 'optional' || field.oneof !== undefined
              ? 'optional'
              : 'single';
      info.fields.push({
        protoName: field.name,
        name: tsName,
        number: field.number,
        cardinality,
        type,
        key,
        oneof: field.oneof,
      });
      if (field.oneof !== undefined) info.oneofs.get(field.oneof)?.push(tsName);
    }
  }

  private fieldNumber(field: FieldDecl, decl: MessageDecl, byNumber: Map<number, FieldDecl>): void {
    const n = field.number;
    if (!Number.isInteger(n) || n < 1 || n > MAX_FIELD_NUMBER) {
      this.d.add(
        DiagnosticCode.BAD_NUMBER,
        field.numberPos,
        `field number ${n} is out of range: use 1..${MAX_FIELD_NUMBER}`,
      );
      return;
    }
    if (n >= 19000 && n <= 19999) {
      this.d.add(
        DiagnosticCode.BAD_NUMBER,
        field.numberPos,
        `field numbers 19000..19999 are reserved by protobuf: pick another for '${field.name}'`,
      );
      return;
    }
    const other = byNumber.get(n);
    if (other !== undefined) {
      this.d.add(
        DiagnosticCode.DUPLICATE_NUMBER,
        field.numberPos,
        `field number ${n} is already used by '${other.name}' in '${decl.name}'`,
      );
      return;
    }
    byNumber.set(n, field);
    if (decl.reservedNumbers.some((r) => n >= r.from && n <= r.to)) {
      this.d.add(DiagnosticCode.RESERVED, field.numberPos, `field number ${n} is reserved in '${decl.name}'`);
    }
  }

  private enumDecl(decl: EnumDecl): void {
    const names = new Set<string>();
    const numbers = new Map<number, string>();
    const allowAlias = decl.options.some((o) => o.name === 'allow_alias' && o.value === true);
    if (decl.values.length === 0) {
      this.d.add(
        DiagnosticCode.SYNTAX,
        decl.pos,
        `enum '${decl.name}' has no values: proto3 needs at least one, the first = 0`,
      );
    } else if (decl.values[0]!.number !== 0) {
      this.d.add(
        DiagnosticCode.BAD_NUMBER,
        decl.values[0]!.pos,
        `the first value of enum '${decl.name}' must be 0 in proto3 (it is the default)`,
      );
    }
    for (const value of decl.values) {
      if (names.has(value.name))
        this.d.add(
          DiagnosticCode.DUPLICATE_NAME,
          value.pos,
          `enum value '${value.name}' is already defined in '${decl.name}'`,
        );
      names.add(value.name);
      if (!Number.isInteger(value.number) || value.number < -2_147_483_648 || value.number > 2_147_483_647) {
        this.d.add(DiagnosticCode.BAD_NUMBER, value.pos, `enum value ${value.number} is out of the int32 range`);
      }
      const other = numbers.get(value.number);
      if (other !== undefined && !allowAlias) {
        this.d.add(
          DiagnosticCode.DUPLICATE_NUMBER,
          value.pos,
          `'${value.name}' reuses ${value.number} of '${other}': add option allow_alias = true; if that is meant`,
        );
      }
      numbers.set(value.number, value.name);
    }
    for (const option of decl.options) this.corpcOption(option, 'enum');
  }

  /** Non-optional message fields must not contain their own message: its default would be infinite. */
  private recursion(): void {
    for (const root of this.model.messages) {
      const seen = new Set<MessageInfo>();
      const visit = (message: MessageInfo): FieldInfo | undefined => {
        for (const field of message.fields) {
          if (field.cardinality !== 'single' || field.type.kind !== 'message') continue;
          if (field.type.message === root) return field;
          if (seen.has(field.type.message)) continue;
          seen.add(field.type.message);
          if (visit(field.type.message) !== undefined) return field;
        }
        return undefined;
      };
      const field = visit(root);
      if (field === undefined) continue;
      const decl = root.decl.fields.find((f) => f.name === field.protoName);
      if (decl !== undefined && root.fields.includes(field)) {
        this.d.add(
          DiagnosticCode.RECURSIVE_FIELD,
          decl.pos,
          `field '${field.protoName}' makes '${root.decl.name}' contain itself: mark it optional (or repeated)`,
        );
      }
    }
  }

  private service(decl: ServiceDecl): ServiceInfo {
    let entry = false;
    for (const option of decl.options) {
      const value = this.corpcOption(option, 'service');
      if (option.name === '(corpc.entry)' && typeof value === 'boolean') entry = value;
    }
    const methods: MethodInfo[] = [];
    const names = new Map<string, RpcDecl>();
    for (const rpc of decl.rpcs) {
      const name = lowerCamelMethod(rpc.name);
      const clash = names.get(name);
      if (clash !== undefined) {
        const same = clash.name === rpc.name;
        this.d.add(
          DiagnosticCode.DUPLICATE_NAME,
          rpc.pos,
          same
            ? `rpc '${rpc.name}' is already defined in service '${decl.name}'`
            : `rpcs '${clash.name}' and '${rpc.name}' both become client method '${name}': rename one`,
        );
        continue;
      }
      names.set(name, rpc);
      if (CLIENT_RESERVED_NAMES.has(name)) {
        this.d.add(
          DiagnosticCode.DUPLICATE_NAME,
          rpc.pos,
          `rpc '${rpc.name}' would become client method '${name}', which clients use for their own lifecycle: rename it`,
        );
      }
      const input = this.resolveMessage(rpc.input, this.prefix + decl.name);
      const output = this.resolveMessage(rpc.output, this.prefix + decl.name);
      let timeoutMs: number | undefined;
      let businessPriority: number | undefined;
      let idempotent: boolean | undefined;
      let path = `${this.prefix}${decl.name}/${rpc.name}`;
      for (const option of rpc.options) {
        const value = this.corpcOption(option, 'rpc');
        if (
          option.name === 'idempotency_level' &&
          (option.value === 'IDEMPOTENT' || option.value === 'NO_SIDE_EFFECTS')
        )
          idempotent = true;
        if (value === undefined) continue;
        if (option.name === '(corpc.timeout_ms)') timeoutMs = value as number;
        else if (option.name === '(corpc.business_priority)') businessPriority = value as number;
        else if (option.name === '(corpc.idempotent)') {
          idempotent = value as boolean;
          if (rpc.inputStream || rpc.outputStream) {
            this.d.add(
              DiagnosticCode.BAD_OPTION_VALUE,
              option.pos,
              `(corpc.idempotent) does not apply to streaming rpc '${rpc.name}': streams are never retried`,
            );
          }
        } else if (option.name === '(corpc.path)') {
          if (typeof value === 'string' && /^[^/\s]+\/[^/\s]+$/.test(value)) path = value;
          else
            this.d.add(
              DiagnosticCode.BAD_OPTION_VALUE,
              option.valuePos,
              `(corpc.path) must look like "Service/Method", got "${String(value)}"`,
            );
        }
      }
      if (input !== undefined && output !== undefined) {
        methods.push({
          rpcName: rpc.name,
          name,
          path,
          input,
          output,
          kind: methodKind(rpc),
          timeoutMs,
          businessPriority,
          idempotent,
        });
      }
    }
    return { name: decl.name, fullName: this.prefix + decl.name, decl, entry, methods };
  }

  /** Checks a `(corpc.…)` option where it is written and returns its value; other options pass. */
  private corpcOption(option: OptionDecl, where: 'file' | 'service' | 'rpc' | 'enum'): OptionDecl['value'] {
    if (!option.name.startsWith('(corpc.')) return undefined;
    const spec = (CORPC_OPTIONS as Record<string, (typeof CORPC_OPTIONS)[CorpcOption] | undefined>)[option.name];
    if (spec === undefined) {
      const hint = didYouMean(option.name, Object.keys(CORPC_OPTIONS));
      this.d.add(DiagnosticCode.UNKNOWN_OPTION, option.pos, `unknown corpc option ${option.name}${hint}`);
      return undefined;
    }
    if (spec.where !== where) {
      this.d.add(
        DiagnosticCode.UNKNOWN_OPTION,
        option.pos,
        `option ${option.name} belongs on ${spec.where === 'rpc' ? 'an rpc' : 'a service'}, not on a ${where}`,
      );
      return undefined;
    }
    const value = option.value;
    let ok: boolean;
    let expected: string;
    if (spec.kind === 'int') {
      ok =
        option.valueKind === 'int' &&
        Number.isInteger(value) &&
        (value as number) >= spec.min &&
        (value as number) <= spec.max;
      expected = `an integer in ${spec.min}..${spec.max}`;
    } else if (spec.kind === 'bool') {
      ok = option.valueKind === 'bool';
      expected = 'true or false';
    } else {
      ok = option.valueKind === 'string';
      expected = 'a string';
    }
    if (!ok) {
      const got =
        option.valueKind === 'string' ? `"${String(value)}"` : option.valueKind === 'aggregate' ? '{…}' : String(value);
      this.d.add(DiagnosticCode.BAD_OPTION_VALUE, option.valuePos, `${option.name} must be ${expected}, got ${got}`);
      return undefined;
    }
    return value;
  }

  private resolveMessage(ref: TypeRef, scope: string): MessageInfo | undefined {
    const type = this.resolveValue(ref, scope);
    if (type === undefined) return undefined;
    if (type.kind !== 'message') {
      const what =
        type.kind === 'enum'
          ? `enum '${ref.name}'`
          : type.kind === 'scalar'
            ? `scalar type '${ref.name}'`
            : `'${ref.name}'`;
      this.d.add(
        DiagnosticCode.WRONG_KIND,
        ref.pos,
        `an rpc takes and returns messages, not ${what}: wrap it in a message`,
      );
      return undefined;
    }
    return type.message;
  }

  private resolveValue(ref: TypeRef, scope: string): ValueType | undefined {
    if (isScalar(ref.name)) return { kind: 'scalar', scalar: ref.name };
    const wellKnown = WELL_KNOWN_TYPES[ref.name.replace(/^\./, '')];
    if (wellKnown !== undefined) {
      if (this.input.wellKnown.has(wellKnown.file)) return wellKnown.type;
      this.d.add(
        DiagnosticCode.UNKNOWN_TYPE,
        ref.pos,
        `type '${ref.name}' is a well-known type: add import "${wellKnown.file}";`,
      );
      return undefined;
    }
    const symbol = this.lookup(ref, scope);
    if (symbol === undefined) return undefined;
    return symbol.kind === 'message' ? { kind: 'message', message: symbol.info } : { kind: 'enum', enum: symbol.info };
  }

  /** Proto scoping: `B` inside `pkg.A` is tried as `pkg.A.B`, `pkg.B`, `B`; `.pkg.B` is absolute. */
  private lookup(ref: TypeRef, scope: string): Exclude<Symbol, { kind: 'service' }> | undefined {
    const candidates: string[] = [];
    if (ref.name.startsWith('.')) {
      candidates.push(ref.name.slice(1));
    } else {
      const parts = scope === '' ? [] : scope.split('.');
      for (let i = parts.length; i >= 0; i--) candidates.push([...parts.slice(0, i), ref.name].join('.'));
    }
    for (const name of candidates) {
      const symbol = this.symbols.get(name);
      const file = this.symbolFile.get(name);
      if (file === undefined) continue;
      if (symbol === undefined) return undefined;
      if (symbol.kind === 'service') {
        this.d.add(DiagnosticCode.WRONG_KIND, ref.pos, `'${ref.name}' is a service, not a type`);
        return undefined;
      }
      if (!this.visible.has(file)) {
        this.d.add(
          DiagnosticCode.UNKNOWN_TYPE,
          ref.pos,
          `type '${ref.name}' is defined in ${file.file}: add import "${file.file}";`,
        );
        return undefined;
      }
      return symbol;
    }
    const known: string[] = ['double', 'float', 'int32', 'int64', 'uint32', 'uint64', 'bool', 'string', 'bytes'];
    for (const [name, symbol] of this.symbols) {
      if (symbol.kind === 'service' || !this.visible.has(this.symbolFile.get(name)!)) continue;
      known.push(name.startsWith(this.prefix) ? name.slice(this.prefix.length) : name);
      known.push(name.slice(name.lastIndexOf('.') + 1));
    }
    this.d.add(DiagnosticCode.UNKNOWN_TYPE, ref.pos, `unknown type '${ref.name}'${didYouMean(ref.name, known)}`);
    return undefined;
  }
}

function methodKind(rpc: RpcDecl): MethodInfo['kind'] {
  if (rpc.inputStream) return rpc.outputStream ? 'bidi-stream' : 'client-stream';
  return rpc.outputStream ? 'server-stream' : 'unary';
}
