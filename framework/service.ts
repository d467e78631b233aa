import type { RequestContext } from './context.ts';

/**
 * Service descriptors: plain data that names a service and its methods. Generated code
 * (`npx corpc gen`) emits them from the IDL; hand-written services build them with
 * `defineService` and `method`. Typed clients and handler interfaces are derived from them.
 *
 * A method has two shapes per message: what a side receives (`Req` on the server, `Res` on the
 * client: whole, every field present) and what a side sends (`ReqInit` from the client, `ResInit`
 * from a handler). Generated descriptors send `MessageInit<T>` (every field optional, as proto3
 * fills defaults and the generated decoders complete the message on arrival); hand-written ones
 * send what they receive unless they say otherwise, since without a decoder nothing fills in a
 * field the sender left out.
 */

/** `google.protobuf.Empty` in generated code: a message with no fields. */
export type Empty = { [key: string]: never };

/**
 * A message as a sender may give it: every field optional, nested messages too (in lists and
 * map values as well), like Connect-ES's `MessageInitShape`. The receiver's decoder fills in
 * what is left out with proto3's defaults.
 */
export type MessageInit<T> = T extends string | number | boolean | bigint | null | undefined | Uint8Array | Date
  ? T
  : T extends readonly (infer E)[]
    ? MessageInit<E>[]
    : T extends object
      ? string extends keyof T
        ? { [key: string]: MessageInit<T[string]> }
        : { [K in keyof T]?: MessageInit<T[K]> }
      : T;

export interface MethodOptions<Req, Res> {
  /** Wire name, `"Service/Method"` by default. */
  path?: string;
  /** Validates and converts a decoded request body; throws an INVALID_ARGUMENT RpcError naming the field. */
  decodeRequest?: (value: unknown) => Req;
  /** Validates and converts a decoded response body on the client. */
  decodeResponse?: (value: unknown) => Res;
  /** Default timeout for calls of this method made outside any request. */
  timeoutMs?: number;
  /** The business priority an entry service assigns to this action (0 = most important). */
  businessPriority?: number;
  /** Safe to send twice: clients may retry it on another endpoint. */
  idempotent?: boolean;
  /** The IDL's full name of the request message (`shop.GetItemRequest`), for reflection; its schema is in the service's `types`. */
  requestType?: string;
  /** The IDL's full name of the response message. */
  responseType?: string;
}

/** Type carrier of a method: what each side receives and sends. Never set at run time. */
export interface MethodTypes<Req, Res, ReqInit, ResInit> {
  readonly request: Req;
  readonly response: Res;
  readonly requestInit: ReqInit;
  readonly responseInit: ResInit;
}

/**
 * The shape of a call: one request and one response (`unary`, the default), or a stream of
 * responses (`server-stream`), of requests (`client-stream`), or of both (`bidi-stream`).
 * See docs/streaming.md.
 */
export type MethodKind = 'unary' | 'server-stream' | 'client-stream' | 'bidi-stream';

export interface MethodDescriptor<Req = unknown, Res = unknown, ReqInit = Req, ResInit = Res>
  extends Readonly<MethodOptions<Req, Res>> {
  /** Unary when absent. */
  readonly kind?: MethodKind;
  /** The method's name in its service (`"echo"`), the client's property name. */
  readonly name: string;
  /** The wire name (`"Echo/echo"`). */
  readonly path: string;
  /** Type carrier only; never set at run time. */
  readonly types?: MethodTypes<Req, Res, ReqInit, ResInit>;
}

export interface ServiceDescriptor {
  readonly name: string;
  readonly methods: Readonly<Record<string, MethodDescriptor>>;
  /** An entry service faces outside callers: it assigns priorities instead of trusting them. */
  readonly entry?: boolean;
  /** The schemas of the messages and enums its methods use (generated code carries them), for reflection. */
  readonly types?: readonly TypeSchema[];
}

/**
 * A message or enum of the IDL as reflection shows it: plain data, emitted by `corpc gen`.
 * A field's `type` is a scalar (`string`, `int64`…), a well-known type
 * (`google.protobuf.Timestamp`), or the full name of a message or enum in the same `types` list.
 */
export type TypeSchema = MessageSchema | EnumSchema;

export interface MessageSchema {
  readonly kind: 'message';
  /** Full name: `shop.Order.Item`. */
  readonly name: string;
  readonly fields: readonly FieldSchema[];
}

export interface FieldSchema {
  /** The wire and JSON key (`userId` for the IDL's `user_id`). */
  readonly name: string;
  readonly number: number;
  readonly type: string;
  /** Absent for a plain field. A map's keys are of type `key`. */
  readonly label?: 'optional' | 'repeated' | 'map';
  readonly key?: string;
  readonly oneof?: string;
}

export interface EnumSchema {
  readonly kind: 'enum';
  readonly name: string;
  readonly values: readonly { readonly name: string; readonly number: number }[];
}

type TypesOf<M> = M extends { readonly types?: infer T } ? Exclude<T, undefined> : never;
/** The request a handler receives (whole). */
export type RequestOf<M> = TypesOf<M> extends { readonly request: infer Req } ? Req : never;
/** The response a client gets back (whole). */
export type ResponseOf<M> = TypesOf<M> extends { readonly response: infer Res } ? Res : never;
/** The request a client passes (for generated methods, a `MessageInit`). */
export type RequestInitOf<M> = TypesOf<M> extends { readonly requestInit: infer ReqInit } ? ReqInit : never;
/** The response a handler returns (for generated methods, a `MessageInit`). */
export type ResponseInitOf<M> = TypesOf<M> extends { readonly responseInit: infer ResInit } ? ResInit : never;

/** The kind of a method descriptor type (`'unary'` when it names none). */
export type KindOf<M> = M extends { readonly kind: infer K extends MethodKind } ? K : 'unary';

/**
 * The handler of one method: a plain async function for a unary call; an `async function*` that
 * yields the responses of a server stream; an async function that reads the requests of a client
 * stream from an `AsyncIterable` and returns the reply; an `async function*` over an
 * `AsyncIterable` for a bidirectional stream.
 */
export type HandlerOf<M> = {
  unary: (request: RequestOf<M>, context: RequestContext) => Promise<ResponseInitOf<M>> | ResponseInitOf<M>;
  'server-stream': (request: RequestOf<M>, context: RequestContext) => AsyncIterable<ResponseInitOf<M>>;
  'client-stream': (
    requests: AsyncIterable<RequestOf<M>>,
    context: RequestContext,
  ) => Promise<ResponseInitOf<M>> | ResponseInitOf<M>;
  'bidi-stream': (requests: AsyncIterable<RequestOf<M>>, context: RequestContext) => AsyncIterable<ResponseInitOf<M>>;
}[KindOf<M>];

/** What a server implements for a service: one handler per method (see `HandlerOf`). */
export type ServiceHandlers<S extends ServiceDescriptor> = {
  [K in keyof S['methods']]: HandlerOf<S['methods'][K]>;
};

/** A method spec before it belongs to a service (see `defineService`). */
export interface MethodSpec<Req, Res, ReqInit = Req, ResInit = Res> extends MethodOptions<Req, Res> {
  readonly kind?: MethodKind;
  readonly types?: MethodTypes<Req, Res, ReqInit, ResInit>;
}

/** A streaming method spec: `serverStream`, `clientStream`, `bidiStream`. */
export interface StreamSpec<Req, Res, ReqInit, ResInit, K extends MethodKind>
  extends MethodSpec<Req, Res, ReqInit, ResInit> {
  readonly kind: K;
}

/** A streaming method descriptor, its kind kept in its type. */
export interface StreamDescriptor<Req, Res, ReqInit, ResInit, K extends MethodKind>
  extends MethodDescriptor<Req, Res, ReqInit, ResInit> {
  readonly kind: K;
}

/**
 * Declares a method's request and response types, with optional defaults. `ReqInit` and
 * `ResInit`, what a client and a handler send, are `Req` and `Res` unless given: pass
 * `MessageInit<Req>` / `MessageInit<Res>` only with decoders that fill in left-out fields (as
 * generated code does).
 */
export function method<Req, Res, ReqInit = Req, ResInit = Res>(
  options: MethodOptions<Req, Res> = {},
): MethodSpec<Req, Res, ReqInit, ResInit> {
  return options;
}

/** A method whose handler yields a stream of responses to one request (`rpc Watch(Req) returns (stream Res)`). */
export function serverStream<Req, Res, ReqInit = Req, ResInit = Res>(
  options: MethodOptions<Req, Res> = {},
): StreamSpec<Req, Res, ReqInit, ResInit, 'server-stream'> {
  return { ...options, kind: 'server-stream' };
}

/** A method whose handler reads a stream of requests and returns one reply (`rpc Upload(stream Req) returns (Res)`). */
export function clientStream<Req, Res, ReqInit = Req, ResInit = Res>(
  options: MethodOptions<Req, Res> = {},
): StreamSpec<Req, Res, ReqInit, ResInit, 'client-stream'> {
  return { ...options, kind: 'client-stream' };
}

/** A method with a stream each way (`rpc Chat(stream Req) returns (stream Res)`). */
export function bidiStream<Req, Res, ReqInit = Req, ResInit = Res>(
  options: MethodOptions<Req, Res> = {},
): StreamSpec<Req, Res, ReqInit, ResInit, 'bidi-stream'> {
  return { ...options, kind: 'bidi-stream' };
}

type DescribedMethods<M> = {
  readonly [K in keyof M]: M[K] extends StreamSpec<infer Req, infer Res, infer ReqInit, infer ResInit, infer Kind>
    ? StreamDescriptor<Req, Res, ReqInit, ResInit, Kind>
    : M[K] extends MethodSpec<infer Req, infer Res, infer ReqInit, infer ResInit>
      ? MethodDescriptor<Req, Res, ReqInit, ResInit>
      : never;
};

/** Builds a service descriptor by hand (generated code builds the same shape from the IDL). */
export function defineService<const M extends Record<string, MethodSpec<unknown, unknown, unknown, unknown>>>(
  name: string,
  methods: M,
  options: { entry?: boolean; types?: readonly TypeSchema[] } = {},
): {
  readonly name: string;
  readonly entry: boolean;
  readonly methods: DescribedMethods<M>;
  readonly types?: readonly TypeSchema[];
} {
  const described: Record<string, MethodDescriptor> = {};
  for (const [key, spec] of Object.entries(methods)) {
    described[key] = Object.freeze({ ...spec, name: key, path: spec.path ?? `${name}/${key}` }) as MethodDescriptor;
  }
  return Object.freeze({
    name,
    entry: options.entry ?? false,
    methods: Object.freeze(described) as DescribedMethods<M>,
    ...(options.types === undefined ? {} : { types: options.types }),
  });
}
