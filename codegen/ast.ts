import type { Position } from './diagnostics.ts';

/** The syntax tree of one IDL file, as written (names not yet resolved). */

export interface ProtoFile {
  /** The path the file was read from, as the user named it. */
  readonly file: string;
  package: string | undefined;
  readonly imports: ImportDecl[];
  readonly options: OptionDecl[];
  readonly messages: MessageDecl[];
  readonly enums: EnumDecl[];
  readonly services: ServiceDecl[];
}

export interface ImportDecl {
  readonly path: string;
  readonly pos: Position;
}

export type ConstantValue = string | number | boolean;

export interface OptionDecl {
  /** `java_package`, `(corpc.timeout_ms)`, `(foo.bar).baz`. */
  readonly name: string;
  readonly pos: Position;
  /** The parsed value, or undefined for an aggregate `{ … }` value. */
  readonly value: ConstantValue | undefined;
  /** What kind of constant was written: an identifier other than true/false counts as 'ident'. */
  readonly valueKind: 'int' | 'float' | 'string' | 'bool' | 'ident' | 'aggregate';
  readonly valuePos: Position;
}

export interface TypeRef {
  /** As written: `Account`, `shop.Account`, `.shop.Account`, or a scalar (`int32`). */
  readonly name: string;
  readonly pos: Position;
}

export interface FieldDecl {
  readonly name: string;
  readonly pos: Position;
  readonly number: number;
  readonly numberPos: Position;
  readonly label: 'optional' | 'repeated' | undefined;
  /** The value type (for a map: the map's value type). */
  readonly type: TypeRef;
  /** For `map<K, V>`: the key type. */
  readonly mapKey: TypeRef | undefined;
  /** The name of the oneof this field belongs to. */
  readonly oneof: string | undefined;
}

export interface OneofDecl {
  readonly name: string;
  readonly pos: Position;
}

export interface ReservedRange {
  readonly from: number;
  readonly to: number;
}

export interface MessageDecl {
  readonly name: string;
  readonly pos: Position;
  readonly fields: FieldDecl[];
  readonly oneofs: OneofDecl[];
  readonly messages: MessageDecl[];
  readonly enums: EnumDecl[];
  readonly reservedNumbers: ReservedRange[];
  readonly reservedNames: string[];
}

export interface EnumValueDecl {
  readonly name: string;
  readonly pos: Position;
  readonly number: number;
}

export interface EnumDecl {
  readonly name: string;
  readonly pos: Position;
  readonly values: EnumValueDecl[];
  readonly options: OptionDecl[];
}

export interface RpcDecl {
  readonly name: string;
  readonly pos: Position;
  readonly input: TypeRef;
  readonly output: TypeRef;
  /** `rpc X(stream A) …`: the client sends a stream of requests. */
  readonly inputStream: boolean;
  /** `… returns (stream B)`: the server sends a stream of responses. */
  readonly outputStream: boolean;
  readonly options: OptionDecl[];
}

export interface ServiceDecl {
  readonly name: string;
  readonly pos: Position;
  readonly rpcs: RpcDecl[];
  readonly options: OptionDecl[];
}
