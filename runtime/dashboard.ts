import { businessOf, userOf } from 'corpc';

/**
 * The live dashboard's data: each worker sends a snapshot of the last second every second; the
 * supervisor merges the latest snapshot of every worker into one view (served as JSON and shown
 * by dashboard.html).
 */

export interface UnitWindow {
  /** The level the unit's admission controller admits (B*128+U). */
  admissionLevel: number;
  inFlight: number;
  queued: number;
  connections: number;
  /** Calls handled in the window, and how many of them succeeded. */
  calls: number;
  ok: number;
  /** From the admission controller's windows closed in this one: requests refused before a handler ran… */
  rejected: number;
  /** …requests that left the queue, and the sum of their queuing times (event-loop delay included). */
  started: number;
  queuingMsSum: number;
  /** The last admission window was overloaded. */
  overloaded: boolean;
}

export interface PriorityWindow {
  requests: number;
  ok: number;
  /** The entry actions with this business priority (`Gateway/Login`). */
  actions: string[];
}

export interface WorkerSnapshot {
  worker: number;
  windowMs: number;
  units: Record<string, UnitWindow>;
  /** HTTP entry outcomes by business priority. */
  priorities: Record<string, PriorityWindow>;
}

export interface DashboardView {
  time: string;
  ready: boolean;
  draining: boolean;
  workers: number;
  units: {
    name: string;
    /** The most restrictive worker's level. */
    admission: { business: number; user: number; level: number };
    /** Workers whose last admission window was overloaded. */
    overloadedWorkers: number;
    /** Average queuing time as the admission controllers measured it. */
    queuingMs: number;
    inFlight: number;
    queued: number;
    /** Requests that reached the unit (handled or refused by admission) per second. */
    callsPerSecond: number;
    rejectedPerSecond: number;
    /** Handled with success / reached the unit. */
    successRate: number | null;
  }[];
  priorities: { business: number; actions: string[]; requestsPerSecond: number; successRate: number | null }[];
}

/** Merges the workers' latest snapshots: rates add up, the admission level shown is the lowest (most restrictive). */
export function mergeSnapshots(
  snapshots: Iterable<WorkerSnapshot>,
  state: { ready: boolean; draining: boolean; workers: number },
): DashboardView {
  const units = new Map<string, Omit<UnitWindow, 'overloaded'> & { overloadedWorkers: number }>();
  const priorities = new Map<string, PriorityWindow>();
  for (const snapshot of snapshots) {
    const seconds = snapshot.windowMs / 1000;
    for (const [name, window] of Object.entries(snapshot.units)) {
      const merged = units.get(name);
      const overloaded = window.overloaded ? 1 : 0;
      if (merged === undefined) {
        units.set(name, {
          ...window,
          calls: window.calls / seconds,
          ok: window.ok / seconds,
          rejected: window.rejected / seconds,
          overloadedWorkers: overloaded,
        });
        continue;
      }
      merged.admissionLevel = Math.min(merged.admissionLevel, window.admissionLevel);
      merged.inFlight += window.inFlight;
      merged.queued += window.queued;
      merged.connections += window.connections;
      merged.calls += window.calls / seconds;
      merged.ok += window.ok / seconds;
      merged.rejected += window.rejected / seconds;
      merged.started += window.started;
      merged.queuingMsSum += window.queuingMsSum;
      merged.overloadedWorkers += overloaded;
    }
    for (const [business, window] of Object.entries(snapshot.priorities)) {
      const merged = priorities.get(business);
      if (merged === undefined) {
        priorities.set(business, { ...window, requests: window.requests / seconds, ok: window.ok / seconds });
        continue;
      }
      merged.requests += window.requests / seconds;
      merged.ok += window.ok / seconds;
    }
  }
  return {
    time: new Date().toISOString(),
    ...state,
    units: [...units].map(([name, u]) => ({
      name,
      admission: { business: businessOf(u.admissionLevel), user: userOf(u.admissionLevel), level: u.admissionLevel },
      overloadedWorkers: u.overloadedWorkers,
      queuingMs: u.started === 0 ? 0 : u.queuingMsSum / u.started,
      inFlight: u.inFlight,
      queued: u.queued,
      callsPerSecond: u.calls + u.rejected,
      rejectedPerSecond: u.rejected,
      successRate: u.calls + u.rejected === 0 ? null : u.ok / (u.calls + u.rejected),
    })),
    priorities: [...priorities]
      .map(([business, p]) => ({
        business: Number(business),
        actions: p.actions,
        requestsPerSecond: p.requests,
        successRate: p.requests === 0 ? null : p.ok / p.requests,
      }))
      .sort((a, b) => a.business - b.business),
  };
}
