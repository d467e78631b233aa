import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RpcError, type MethodDescriptor, type ServiceDescriptor } from 'corpc';
import { compile } from '../../codegen/compile.ts';
import { formatDiagnostic } from '../../codegen/diagnostics.ts';
import { UsageError } from '../command-line.ts';

/**
 * Finds what to call for `Service/Method`. Without a module, the wire path is the spec as given
 * (generated paths keep the IDL's case: `kv.KeyValue/Get`; `defineService` paths use the client
 * key: `Echo/echo`); the preflight call tries the other case of the method's first letter when
 * the server does not know it (see `otherSpelling`). With `--module`, the service descriptor
 * exported there is used, and its request validator (generated code has one) checks the body
 * before any load is sent. With `--proto`, the IDL is compiled first and its generated module
 * used the same way.
 */
export async function resolveMethod(
  spec: string,
  body: unknown,
  modulePath: string | undefined,
  protoPath?: string,
): Promise<MethodDescriptor> {
  if (protoPath !== undefined) return withCompiledProto(protoPath, (generated) => resolveMethod(spec, body, generated));
  const slash = spec.indexOf('/');
  const serviceName = spec.slice(0, slash);
  const methodName = spec.slice(slash + 1);
  if (modulePath === undefined) return { name: methodName, path: spec };
  const lower = methodName[0]!.toLowerCase() + methodName.slice(1);

  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(resolve(modulePath)).href)) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`--module ${modulePath}: cannot load it (${(error as Error).message.split('\n')[0]})`);
  }
  const services = Object.entries(module).filter((entry): entry is [string, ServiceDescriptor] => isService(entry[1]));
  const service = services.find(
    ([key, s]) => key === serviceName || s.name === serviceName || s.name.endsWith(`.${serviceName}`),
  )?.[1];
  if (service === undefined) {
    const known = services.map(([, s]) => s.name).join(', ') || 'none';
    throw new UsageError(`--module ${modulePath} has no service "${serviceName}" (services there: ${known})`);
  }
  const method =
    service.methods[methodName] ??
    service.methods[lower] ??
    Object.values(service.methods).find((m) => m.path.endsWith(`/${methodName}`));
  if (method === undefined) {
    throw new UsageError(
      `service ${service.name} has no method "${methodName}" (methods: ${Object.keys(service.methods).join(', ')})`,
    );
  }
  if (method.decodeRequest !== undefined) {
    try {
      method.decodeRequest(body);
    } catch (error) {
      const reason = error instanceof RpcError || error instanceof Error ? error.message : String(error);
      throw new UsageError(`--data does not fit ${method.path}'s request: ${reason}`);
    }
  }
  return method;
}

/**
 * `kv.KeyValue/Get` ↔ `kv.KeyValue/get`: the path with the method's first letter in the other
 * case, or undefined when it has no case. The server registers one of them (a service with both
 * is answered by the exact one: the spelling given is tried first).
 */
export function otherSpelling(path: string): string | undefined {
  const slash = path.lastIndexOf('/');
  const first = path.charAt(slash + 1);
  const swapped = first === first.toLowerCase() ? first.toUpperCase() : first.toLowerCase();
  return swapped === first ? undefined : `${path.slice(0, slash + 1)}${swapped}${path.slice(slash + 2)}`;
}

function isService(value: unknown): value is ServiceDescriptor {
  if (typeof value !== 'object' || value === null) return false;
  const { name, methods } = value as { name?: unknown; methods?: unknown };
  return typeof name === 'string' && typeof methods === 'object' && methods !== null;
}

/**
 * Compiles an IDL file with `corpc gen`'s compiler into a scratch folder under the working
 * directory (so the generated `import … from 'corpc'` resolves as the project's own code does),
 * runs `use` with the generated module's path, then removes the folder.
 */
async function withCompiledProto<T>(protoPath: string, use: (modulePath: string) => Promise<T>): Promise<T> {
  let result: ReturnType<typeof compile>;
  try {
    result = compile([protoPath]);
  } catch (error) {
    throw new UsageError(`--proto ${protoPath}: cannot read it (${(error as Error).message})`);
  }
  if (result.diagnostics.length > 0) {
    const lines = result.diagnostics.map((d) => `  ${formatDiagnostic(d)}`);
    throw new UsageError(`--proto ${protoPath} has errors:\n${lines.join('\n')}`);
  }
  const folder = mkdtempSync(join(process.cwd(), '.corpc-bench-'));
  try {
    for (const module of result.modules) writeFileSync(join(folder, module.name), module.code);
    const own = result.modules.find((module) => module.source.endsWith(basename(protoPath)))!;
    return await use(join(folder, own.name));
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
