/**
 * Messages between the supervisor and its workers (node:cluster IPC). Every message carries
 * `corpc` so that other users of the channel (prom-client, user code) are left alone.
 */
import type { ServingStatus } from 'corpc';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { WorkerSnapshot } from './dashboard.ts';
import type { BoundPorts } from './plan.ts';

/** Per unit, whether this worker's server and the unit's service are both SERVING (health). */
export type UnitHealth = Record<string, ServingStatus>;

export type WorkerMessage =
  | { corpc: 'ready'; ports: BoundPorts; health: UnitHealth }
  | { corpc: 'health'; health: UnitHealth }
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
