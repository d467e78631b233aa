import type { EnumDecl, MessageDecl, ProtoFile, ServiceDecl } from './ast.ts';

/** The checked, resolved form of the IDL that the generator works from. */

export const SCALARS = [
  'double',
  'float',
  'int32',
  'int64',
  'uint32',
  'uint64',
  'sint32',
  'sint64',
  'fixed32',
  'fixed64',
  'sfixed32',
  'sfixed64',
  'bool',
  'string',
  'bytes',
] as const;
export type Scalar = (typeof SCALARS)[number];

export function isScalar(name: string): name is Scalar {
  return (SCALARS as readonly string[]).includes(name);
}

export type ValueType =
  | { readonly kind: 'scalar'; readonly scalar: Scalar }
  | { readonly kind: 'enum'; readonly enum: EnumInfo }
  | { readonly kind: 'message'; readonly message: MessageInfo }
  | { readonly kind: 'wellKnown'; readonly wellKnown: 'timestamp' | 'duration' };

export interface FieldInfo {
  /** As written in the IDL (`user_id`). */
  readonly protoName: string;
  /** The TypeScript property and wire key (`userId`). */
  readonly name: string;
  readonly number: number;
  /** `single`: always has a value (absent on the wire = the default). `optional`: may be undefined. */
  readonly cardinality: 'single' | 'optional' | 'repeated' | 'map';
  readonly type: ValueType;
  /** For a map: the key type. */
  readonly key: Scalar | undefined;
  readonly oneof: string | undefined;
}

export interface MessageInfo {
  readonly fullName: string;
  /** The TypeScript name: nested messages join with '_' (`Order_Item`). */
  readonly tsName: string;
  readonly decl: MessageDecl;
  readonly file: ProtoFile;
  readonly fields: FieldInfo[];
  /** Oneof name → the TypeScript names of its fields. */
  readonly oneofs: Map<string, string[]>;
}

export interface EnumInfo {
  readonly fullName: string;
  readonly tsName: string;
  readonly decl: EnumDecl;
  readonly file: ProtoFile;
}

export interface MethodInfo {
  readonly rpcName: string;
  /** lowerCamelCase: the client's property. */
  readonly name: string;
  /** The wire name: `package.Service/Rpc`. */
  readonly path: string;
  readonly input: MessageInfo;
  readonly output: MessageInfo;
  /** Unary, or which side streams (from `stream` in the rpc). */
  readonly kind: 'unary' | 'server-stream' | 'client-stream' | 'bidi-stream';
  readonly timeoutMs: number | undefined;
  readonly businessPriority: number | undefined;
  readonly idempotent: boolean | undefined;
}

export interface ServiceInfo {
  readonly name: string;
  readonly fullName: string;
  readonly decl: ServiceDecl;
  readonly entry: boolean;
  readonly methods: MethodInfo[];
}

export interface FileModel {
  readonly file: ProtoFile;
  /** The generated module's base name (`shop` for `a/shop.proto`). */
  readonly moduleName: string;
  readonly messages: MessageInfo[];
  readonly enums: EnumInfo[];
  readonly services: ServiceInfo[];
}

/** `user_id` → `userId`, as proto3's JSON names. */
export function lowerCamelField(name: string): string {
  return name.replace(/_+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase()).replace(/_+$/, '');
}

/** `GetItem` → `getItem`, `HTTPGet` → `httpGet`, `get_item` → `getItem`. */
export function lowerCamelMethod(name: string): string {
  const camel = lowerCamelField(name);
  const lead = /^[A-Z]+/.exec(camel)?.[0] ?? '';
  if (lead.length <= 1 || lead.length === camel.length)
    return camel.slice(0, lead.length).toLowerCase() + camel.slice(lead.length);
  // `HTTPGet`: the last capital starts the next word.
  return camel.slice(0, lead.length - 1).toLowerCase() + camel.slice(lead.length - 1);
}

/** Where protobuf's well-known types live: not a file corpc reads, the types are built in. */
const WELL_KNOWN_FILE: ProtoFile = {
  file: 'google/protobuf/*.proto',
  package: 'google.protobuf',
  imports: [],
  options: [],
  messages: [],
  enums: [],
  services: [],
};

/** `google.protobuf.Empty`: a message with no fields, typed and decoded by corpc itself (`Empty`, `validation.decodeEmpty`). */
export const EMPTY_MESSAGE: MessageInfo = {
  fullName: 'google.protobuf.Empty',
  tsName: 'Empty',
  decl: {
    name: 'Empty',
    pos: { line: 1, column: 1 },
    fields: [],
    oneofs: [],
    messages: [],
    enums: [],
    reservedNumbers: [],
    reservedNames: [],
  },
  file: WELL_KNOWN_FILE,
  fields: [],
  oneofs: new Map(),
};

/**
 * The well-known types corpc supports, by full name: the file that declares them in protobuf (to
 * be imported) and what they are here. `Timestamp` is a `Date`, `Duration` a number of ms.
 */
export const WELL_KNOWN_TYPES: Readonly<Record<string, { readonly file: string; readonly type: ValueType }>> = {
  'google.protobuf.Timestamp': {
    file: 'google/protobuf/timestamp.proto',
    type: { kind: 'wellKnown', wellKnown: 'timestamp' },
  },
  'google.protobuf.Duration': {
    file: 'google/protobuf/duration.proto',
    type: { kind: 'wellKnown', wellKnown: 'duration' },
  },
  'google.protobuf.Empty': { file: 'google/protobuf/empty.proto', type: { kind: 'message', message: EMPTY_MESSAGE } },
};

/** The import paths of the supported well-known types. */
export const WELL_KNOWN_FILES: ReadonlySet<string> = new Set(
  Object.values(WELL_KNOWN_TYPES).map((entry) => entry.file),
);
