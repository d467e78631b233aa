import type { MethodDescriptor, ServiceDescriptor } from 'corpc';

/**
 * The names a user may give an entry method, in the HTTP entry's routes and in the config's
 * `priority.business` table: its wire path (`corpc.demo.Gateway/Login`), the service's short
 * name with the IDL method name (`Gateway/Login`), and either with the lowerCamel client key
 * (`Gateway/login`).
 */
export function methodNames(service: ServiceDescriptor, key: string, method: MethodDescriptor): string[] {
  const shortName = service.name.slice(service.name.lastIndexOf('.') + 1);
  const rpcName = method.path.slice(method.path.lastIndexOf('/') + 1);
  return [...new Set([method.path, `${shortName}/${rpcName}`, `${service.name}/${key}`, `${shortName}/${key}`])];
}
