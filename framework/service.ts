import type { RequestContext } from './context.ts';

/**
 * Service descriptors: plain data that names a service and its methods. Generated code
 * (`npx corpc gen`) emits them from the IDL; hand-written services build them with
 * `defineService` and `method`. Typed clients and handler interfaces are derived from them.
 */

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

export interface MethodDescriptor<Req = unknown, Res = unknown> extends Readonly<MethodOptions<Req, Res>> {
  /** The method's name in its service (`"echo"`), the client's property name. */
  readonly name: string;
  /** The wire name (`"Echo/echo"`). */
  readonly path: string;
  /** Type carrier only; never set at run time. */
  readonly types?: { readonly request: Req; readonly response: Res };
}

export interface ServiceDescriptor {
  readonly name: string;
  readonly methods: Readonly<Record<string, MethodDescriptor>>;
  /** An entry service faces outside callers: it assigns priorities instead of trusting them. */
  readonly entry?: boolean;
}

export type RequestOf<M> = M extends MethodDescriptor<infer Req, unknown> ? Req : never;
export type ResponseOf<M> = M extends MethodDescriptor<unknown, infer Res> ? Res : never;

/** What a server implements for a service: one plain async function per method. */
export type ServiceHandlers<S extends ServiceDescriptor> = {
  [K in keyof S['methods']]: (
    request: RequestOf<S['methods'][K]>,
    context: RequestContext,
  ) => Promise<ResponseOf<S['methods'][K]>> | ResponseOf<S['methods'][K]>;
};

/** A method spec before it belongs to a service (see `defineService`). */
export interface MethodSpec<Req, Res> extends MethodOptions<Req, Res> {
  readonly types?: { readonly request: Req; readonly response: Res };
}

/** Declares a method's request and response types, with optional defaults. */
export function method<Req, Res>(options: MethodOptions<Req, Res> = {}): MethodSpec<Req, Res> {
  return options;
}

type DescribedMethods<M> = {
  readonly [K in keyof M]: M[K] extends MethodSpec<infer Req, infer Res> ? MethodDescriptor<Req, Res> : never;
};

/** Builds a service descriptor by hand (generated code builds the same shape from the IDL). */
export function defineService<const M extends Record<string, MethodSpec<unknown, unknown>>>(
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
