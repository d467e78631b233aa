/**
 * What service modules use from the runtime: `import { defineUnit } from 'corpc/runtime'`.
 */
export { defineUnit } from './service-module.ts';
export type { ModuleInterceptors, ServiceEnv, ServiceModule, ServiceUnit } from './service-module.ts';
export type { RuntimeConfig, ServiceConfig } from './config.ts';
