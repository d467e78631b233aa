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
}

/** Type carrier of a method: what each side receives and sends. Never set at run time. */
export interface MethodTypes<Req, Res, ReqInit, ResInit> {
  readonly request: Req;
  readonly response: Res;
  readonly requestInit: ReqInit;
  readonly responseInit: ResInit;
}

export interface MethodDescriptor<Req = unknown, Res = unknown, ReqInit = Req, ResInit = Res> extends Readonly<MethodOptions<Req, Res>> {
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

/** What a server implements for a service: one plain async function per method. */
export type ServiceHandlers<S extends ServiceDescriptor> = {
  [K in keyof S['methods']]: (
    request: RequestOf<S['methods'][K]>,
    context: RequestContext,
  ) => Promise<ResponseInitOf<S['methods'][K]>> | ResponseInitOf<S['methods'][K]>;
};

/** A method spec before it belongs to a service (see `defineService`). */
export interface MethodSpec<Req, Res, ReqInit = Req, ResInit = Res> extends MethodOptions<Req, Res> {
  readonly types?: MethodTypes<Req, Res, ReqInit, ResInit>;
}

/**
 * Declares a method's request and response types, with optional defaults. `ReqInit` and
 * `ResInit`, what a client and a handler send, are `Req` and `Res` unless given: pass
 * `MessageInit<Req>` / `MessageInit<Res>` only with decoders that fill in left-out fields (as
 * generated code does).
 */
export function method<Req, Res, ReqInit = Req, ResInit = Res>(options: MethodOptions<Req, Res> = {}): MethodSpec<Req, Res, ReqInit, ResInit> {
  return options;
}

type DescribedMethods<M> = {
  readonly [K in keyof M]: M[K] extends MethodSpec<infer Req, infer Res, infer ReqInit, infer ResInit>
    ? MethodDescriptor<Req, Res, ReqInit, ResInit>
    : never;
};

/** Builds a service descriptor by hand (generated code builds the same shape from the IDL). */
export function defineService<const M extends Record<string, MethodSpec<unknown, unknown, unknown, unknown>>>(
  name: string,
  methods: M,
  options: { entry?: boolean } = {},
): { readonly name: string; readonly entry: boolean; readonly methods: DescribedMethods<M> } {
  const described: Record<string, MethodDescriptor> = {};
  for (const [key, spec] of Object.entries(methods)) {
    described[key] = Object.freeze({ ...spec, name: key, path: spec.path ?? `${name}/${key}` }) as MethodDescriptor;
  }
  return Object.freeze({
    name,
    entry: options.entry ?? false,
    methods: Object.freeze(described) as DescribedMethods<M>,
  });
}
