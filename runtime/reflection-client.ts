import {
  HealthService,
  RpcError,
  Status,
  ReflectionService,
  type Channel,
  type FieldSchema,
  type ReflectedMethod,
  type ReflectedService,
  type ReflectionListResponse,
  type TypeSchema,
} from 'corpc';
import { methodNames } from './method-names.ts';

/**
 * What `corpc list` and `corpc call` share: asking a server's reflection service for its
 * listing, finding a method in it by any of the names the HTTP entry accepts, and printing it.
 */

/** The server's listing, or null when it does not serve reflection (UNIMPLEMENTED). Other errors are thrown. */
export async function fetchListing(channel: Channel, timeoutMs: number): Promise<ReflectionListResponse | null> {
  try {
    return (await channel.call(ReflectionService.methods.list, {}, { timeoutMs })) as ReflectionListResponse;
  } catch (error) {
    if (error instanceof RpcError && error.status === Status.UNIMPLEMENTED) return null;
    throw error;
  }
}

/**
 * Every method by each of its names: its wire path (`corpc.demo.Gateway/Login`), the service's
 * short name with the IDL method name (`Gateway/Login`) or the client key (`Gateway/login`).
 */
export function methodsByName(
  listing: ReflectionListResponse,
): Map<string, { service: ReflectedService; method: ReflectedMethod }> {
  const names = new Map<string, { service: ReflectedService; method: ReflectedMethod }>();
  for (const service of listing.services) {
    for (const method of service.methods) {
      for (const name of methodNames({ name: service.name, methods: {} }, method.key, method))
        if (!names.has(name)) names.set(name, { service, method });
    }
  }
  return names;
}

/** The service that `name` names (full or short), or undefined. */
export function findService(listing: ReflectionListResponse, name: string): ReflectedService | undefined {
  return (
    listing.services.find((service) => service.name === name) ??
    listing.services.find((service) => shortName(service.name) === name)
  );
}

function shortName(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

/** Every type a set of services reaches, through fields, in the order of the listing. */
export function typesOf(listing: ReflectionListResponse, services: readonly ReflectedService[]): TypeSchema[] {
  const byName = new Map(listing.types.map((type) => [type.name, type]));
  const reached = new Set<string>();
  const visit = (name: string): void => {
    const type = byName.get(name);
    if (type === undefined || reached.has(name)) return;
    reached.add(name);
    if (type.kind === 'message') for (const field of type.fields) visit(field.type);
  };
  for (const service of services) {
    for (const method of service.methods) {
      visit(method.requestType);
      visit(method.responseType);
    }
  }
  return listing.types.filter((type) => reached.has(type.name));
}

/** The services every corpc server has (health) or may have (reflection): listed last, in one line each, unless asked for. */
export function isBuiltIn(service: ReflectedService): boolean {
  return service.name === HealthService.name || service.name === ReflectionService.name;
}

/**
 * The listing in the IDL's own syntax, with the field names a JSON body uses (`userId`), the
 * wire path and the corpc options of each method in a comment. Without `services`: the
 * server's own services in full, then the built-in ones in a line each.
 */
export function formatListing(listing: ReflectionListResponse, only?: readonly ReflectedService[]): string {
  const services = only ?? listing.services.filter((service) => !isBuiltIn(service));
  const lines: string[] = [];
  for (const service of services) {
    lines.push(`service ${service.name} {${service.entry ? '  // entry: assigns priorities to outside callers' : ''}`);
    for (const method of service.methods) {
      const types = `(${streamOf(method, 'client-stream')}${method.requestType || '?'}) returns (${streamOf(method, 'server-stream')}${method.responseType || '?'})`;
      lines.push(`  rpc ${method.name}${types};  // ${[method.path, ...methodNotes(method)].join(', ')}`);
    }
    lines.push('}', '');
  }
  for (const type of typesOf(listing, services)) {
    if (type.kind === 'enum') {
      lines.push(`enum ${type.name} {`, ...type.values.map((value) => `  ${value.name} = ${value.number};`), '}', '');
    } else {
      lines.push(`message ${type.name} {`, ...type.fields.map((field) => `  ${fieldLine(field)}`), '}', '');
    }
  }
  if (services.some((service) => service.methods.some((method) => method.requestType === ''))) {
    lines.push('(?: a hand-written descriptor that does not say its message types)', '');
  }
  if (only === undefined) {
    const builtIn = listing.services
      .filter(isBuiltIn)
      .map((service) => `${service.name} (${service.methods.map((m) => m.name).join(', ')})`);
    if (builtIn.length > 0)
      lines.push(`built in: ${builtIn.join(', ')}; \`corpc list <target> <Service>\` shows one in full`);
  }
  return lines.join('\n').trimEnd();
}

/** `"stream "` where the IDL says it: before the request of a client stream, the response of a server stream, both of a bidi one. */
function streamOf(method: ReflectedMethod, side: 'client-stream' | 'server-stream'): string {
  return method.kind === side || method.kind === 'bidi-stream' ? 'stream ' : '';
}

function methodNotes(method: ReflectedMethod): string[] {
  const notes: string[] = [];
  if (method.businessPriority !== undefined) notes.push(`business priority ${method.businessPriority}`);
  if (method.timeoutMs !== undefined) notes.push(`timeout ${method.timeoutMs} ms`);
  if (method.idempotent === true) notes.push('idempotent');
  return notes;
}

function fieldLine(field: FieldSchema): string {
  const type = field.label === 'map' ? `map<${field.key ?? 'string'}, ${field.type}>` : field.type;
  const label = field.label === 'optional' || field.label === 'repeated' ? `${field.label} ` : '';
  return `${label}${type} ${field.name} = ${field.number};${field.oneof === undefined ? '' : `  // oneof ${field.oneof}`}`;
}
