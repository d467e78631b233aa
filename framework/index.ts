/**
 * corpc's public API: `import { createServer, createClient, context, RpcError, Status } from 'corpc'`.
 */
export { RpcError, Status, InvalidArgumentError, statusName, isStatus } from './errors.ts';
export type { StatusName, RpcErrorOptions } from './errors.ts';
export {
  context,
  currentContext,
  withContext,
  newTraceId,
  RequestContext,
  DEFAULT_TIMEOUT_MS,
} from './context.ts';
export type { ContextOptions, Metadata } from './context.ts';
export { Semaphore, WaitGroup, sleep } from './sync.ts';
export { defineService, method } from './service.ts';
export type {
  Empty,
  MessageInit,
  MethodDescriptor,
  MethodOptions,
  MethodSpec,
  MethodTypes,
  RequestInitOf,
  RequestOf,
  ResponseInitOf,
  ResponseOf,
  ServiceDescriptor,
  ServiceHandlers,
} from './service.ts';
export { Server } from './transport/server.ts';
export type { ServerOptions, ListenOptions } from './transport/server.ts';
export { Channel } from './transport/channel.ts';
export type { CallOptions, ChannelOptions } from './transport/channel.ts';
export { RemoteRpcError } from './transport/client-connection.ts';
export { createClient, createChannel } from './client.ts';
export type { ServiceClient, ClientLifecycle } from './client.ts';
export {
  ADMIT_ALL,
  BUSINESS_LEVELS,
  USER_LEVELS,
  LOWEST_BUSINESS_PRIORITY,
  compoundLevel,
  businessOf,
  userOf,
} from './priority.ts';

import { Server, type ServerOptions } from './transport/server.ts';

/** A new server; add services with `addService`, then `listen`. */
export function createServer(options?: ServerOptions): Server {
  return new Server(options);
}

export { AdmissionController, ADMISSION_WINDOW_CHANNEL } from './admission/controller.ts';
export type { AdmissionOptions, AdmissionMetrics, MethodAdmission, RejectReason } from './admission/controller.ts';
export type { AdmissionPolicy, AdmissionWindow } from './admission/policy.ts';
export { POLICY_NAMES, createPolicy } from './admission/policies.ts';
export type { PolicyName, PolicyOptions } from './admission/policies.ts';
export { DagorPolicy } from './admission/dagor-policy.ts';
export type { DagorPolicyOptions } from './admission/dagor-policy.ts';
export { userPriority, priorityHour, UserPriorities } from './admission/user-priority.ts';
export type { EntryOptions } from './admission/entry-priorities.ts';
export { CallerLevel } from './admission/caller-level.ts';
export { RetryBudget } from './admission/retry-budget.ts';
export { Resolver } from './resolver/index.ts';
export type { ResolverOptions, ResolverStats, Endpoint, LookupFunction } from './resolver/index.ts';
export { PowerOfTwoChoices, RoundRobin } from './balancer.ts';
export type { Balancer, BalancedEndpoint, BalancerName } from './balancer.ts';
export type { EndpointInfo, EndpointState } from './transport/channel.ts';

/**
 * For generated code (`corpc gen`), stable: what the validating decoders share (error building and
 * small checks). Generated modules use it so that they import nothing but 'corpc'.
 */
export * as validation from './validation.ts';
