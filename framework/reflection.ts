import {
  defineService,
  method,
  type MethodKind,
  type ServiceDescriptor,
  type ServiceHandlers,
  type TypeSchema,
} from './service.ts';
import { decoder, fail, fields, isList } from './validation.ts';

/**
 * The reflection service, served when a server is created with `reflection: true`: it lists the
 * server's services, their methods and the schemas of their messages, from the descriptors
 * (generated code carries the schemas; hand-written descriptors list their methods without).
 * `npx corpc list` and `npx corpc call` use it.
 *
 * Off by default: it tells whoever can connect the whole API of the server, method by method,
 * which an entry service facing outside callers should not do unless its owner says so (gRPC
 * servers also register reflection explicitly). `corpc run` turns it on with `reflection: true`
 * in the service module or the config.
 */

export interface ReflectedMethod {
  /** The IDL's method name (the last part of the path): `Login`. */
  readonly name: string;
  /** The client's property: `login`. */
  readonly key: string;
  /** The wire name: `corpc.demo.Gateway/Login`. */
  readonly path: string;
  /** Full names of the messages, `""` when the descriptor does not say (hand-written). */
  readonly requestType: string;
  readonly responseType: string;
  /** A streaming method's shape (docs/streaming.md); absent for a unary method. */
  readonly kind?: Exclude<MethodKind, 'unary'>;
  /** Present when the descriptor sets them. */
  readonly timeoutMs?: number;
  readonly businessPriority?: number;
  readonly idempotent?: boolean;
}

export interface ReflectedService {
  readonly name: string;
  readonly entry: boolean;
  readonly methods: readonly ReflectedMethod[];
}

export interface ReflectionListResponse {
  readonly services: readonly ReflectedService[];
  /** Every message and enum the methods use, once, by full name. */
  readonly types: readonly TypeSchema[];
}

/** What `List` answers about these services. */
export function reflect(services: readonly ServiceDescriptor[]): ReflectionListResponse {
  const types = new Map<string, TypeSchema>();
  const listed = services.map((service) => {
    for (const type of service.types ?? []) if (!types.has(type.name)) types.set(type.name, type);
    return {
      name: service.name,
      entry: service.entry === true,
      methods: Object.entries(service.methods).map(([key, m]) => ({
        name: m.path.slice(m.path.lastIndexOf('/') + 1),
        key,
        path: m.path,
        requestType: m.requestType ?? '',
        responseType: m.responseType ?? '',
        ...(m.kind === undefined || m.kind === 'unary' ? {} : { kind: m.kind }),
        ...(m.timeoutMs === undefined ? {} : { timeoutMs: m.timeoutMs }),
        ...(m.businessPriority === undefined ? {} : { businessPriority: m.businessPriority }),
        ...(m.idempotent === undefined ? {} : { idempotent: m.idempotent }),
      })),
    };
  });
  return { services: listed, types: [...types.values()] };
}

/** Checks the shape a client needs to print the answer; the schemas are passed on as they are. */
function decodeListResponse(value: unknown): ReflectionListResponse {
  const o = fields(value);
  if (!isList(o.services)) fail('services', 'a list', o.services);
  o.services.forEach((service, i) => {
    const s = fields(service);
    if (typeof s.name !== 'string') fail(`services[${i}].name`, 'a string', s.name);
    if (!isList(s.methods)) fail(`services[${i}].methods`, 'a list', s.methods);
    s.methods.forEach((m, j) => {
      const path = fields(m).path;
      if (typeof path !== 'string') fail(`services[${i}].methods[${j}].path`, 'a string', path);
    });
  });
  const types = o.types ?? [];
  if (!isList(types)) fail('types', 'a list', types);
  return { services: o.services as ReflectedService[], types: types as TypeSchema[] };
}

const PACKAGE = 'corpc.reflection.v1';
const PATH = `${PACKAGE}.Reflection`;

/** The reflection service's descriptor: `createClient(ReflectionService, target).list({})`. */
export const ReflectionService = defineService(
  PATH,
  {
    list: method<Record<string, never>, ReflectionListResponse>({
      path: `${PATH}/List`,
      decodeResponse: decoder(`${PATH}/List`, 'response', decodeListResponse),
      idempotent: true,
      requestType: 'google.protobuf.Empty',
      responseType: `${PACKAGE}.ListResponse`,
    }),
  },
  {
    // The answer's own shape (what `reflect` builds), as reflection shows any message.
    types: [
      {
        kind: 'message',
        name: `${PACKAGE}.ListResponse`,
        fields: [
          { name: 'services', number: 1, type: `${PACKAGE}.Service`, label: 'repeated' },
          { name: 'types', number: 2, type: `${PACKAGE}.Type`, label: 'repeated' },
        ],
      },
      {
        kind: 'message',
        name: `${PACKAGE}.Service`,
        fields: [
          { name: 'name', number: 1, type: 'string' },
          { name: 'entry', number: 2, type: 'bool' },
          { name: 'methods', number: 3, type: `${PACKAGE}.Method`, label: 'repeated' },
        ],
      },
      {
        kind: 'message',
        name: `${PACKAGE}.Method`,
        fields: [
          { name: 'name', number: 1, type: 'string' },
          { name: 'key', number: 2, type: 'string' },
          { name: 'path', number: 3, type: 'string' },
          { name: 'requestType', number: 4, type: 'string' },
          { name: 'responseType', number: 5, type: 'string' },
          { name: 'timeoutMs', number: 6, type: 'int32', label: 'optional' },
          { name: 'businessPriority', number: 7, type: 'int32', label: 'optional' },
          { name: 'idempotent', number: 8, type: 'bool', label: 'optional' },
          // "server-stream", "client-stream" or "bidi-stream"; absent: unary.
          { name: 'kind', number: 9, type: 'string', label: 'optional' },
        ],
      },
      {
        kind: 'message',
        name: `${PACKAGE}.Type`,
        fields: [
          { name: 'kind', number: 1, type: 'string' },
          { name: 'name', number: 2, type: 'string' },
          { name: 'fields', number: 3, type: `${PACKAGE}.Field`, label: 'repeated' },
          { name: 'values', number: 4, type: `${PACKAGE}.EnumValue`, label: 'repeated' },
        ],
      },
      {
        kind: 'message',
        name: `${PACKAGE}.Field`,
        fields: [
          { name: 'name', number: 1, type: 'string' },
          { name: 'number', number: 2, type: 'int32' },
          { name: 'type', number: 3, type: 'string' },
          { name: 'label', number: 4, type: 'string', label: 'optional' },
          { name: 'key', number: 5, type: 'string', label: 'optional' },
          { name: 'oneof', number: 6, type: 'string', label: 'optional' },
        ],
      },
      {
        kind: 'message',
        name: `${PACKAGE}.EnumValue`,
        fields: [
          { name: 'name', number: 1, type: 'string' },
          { name: 'number', number: 2, type: 'int32' },
        ],
      },
    ],
  },
);

/** @internal The handlers a server with `reflection: true` registers; `services` is read at each call. */
export function reflectionHandlers(
  services: () => readonly ServiceDescriptor[],
): ServiceHandlers<typeof ReflectionService> {
  return { list: () => reflect(services()) };
}
