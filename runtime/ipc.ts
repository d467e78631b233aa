/**
 * Messages between the supervisor and its workers (node:cluster IPC). Every message carries
 * `corpc` so that other users of the channel (prom-client, user code) are left alone.
 */
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { WorkerSnapshot } from './dashboard.ts';
import type { BoundPorts } from './plan.ts';

export type WorkerMessage =
  | { corpc: 'ready'; ports: BoundPorts }
  | { corpc: 'failed'; message: string }
  | { corpc: 'snapshot'; snapshot: WorkerSnapshot }
  | { corpc: 'metrics'; id: number; metrics: MetricObjectWithValues<MetricValue<string>>[] };

export type SupervisorMessage = { corpc: 'drain'; graceMs: number } | { corpc: 'metrics?'; id: number };

/** True for a corpc runtime message (the sender decides which union it belongs to). */
export function isCorpcMessage<T extends { corpc: string }>(message: unknown): message is T {
  return typeof message === 'object' && message !== null && typeof (message as { corpc?: unknown }).corpc === 'string';
}

/** Environment variable that carries the run plan from the supervisor to its workers. */
export const PLAN_ENV = 'CORPC_RUNTIME_PLAN';
