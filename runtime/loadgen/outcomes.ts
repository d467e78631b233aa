import { RpcError, Status, type StatusName } from 'corpc';
import { isStatus, statusName } from 'corpc/internal';

/**
 * Counts of finished requests by status, indexed by status number, and of failures by status and
 * reason (`RESOURCE_EXHAUSTED local_admission` vs `… admission_level` vs `… queue_full` is the
 * whole story under overload). A success is one increment; a failure, which built an error
 * already, one Map lookup by reason.
 */
export class Outcomes {
  private readonly counts = new Float64Array(17);
  private readonly reasons: (Map<string, number> | undefined)[] = [];

  add(status: number, reason = ''): void {
    this.counts[status]!++;
    if (status === Status.OK) return;
    const byReason = (this.reasons[status] ??= new Map());
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  }

  get total(): number {
    let total = 0;
    for (let i = 0; i < this.counts.length; i++) total += this.counts[i]!;
    return total;
  }

  get ok(): number {
    return this.counts[Status.OK]!;
  }

  /** `{ OK: 9000, DEADLINE_EXCEEDED: 12 }`: the statuses seen, most frequent first. */
  toObject(): Partial<Record<StatusName, number>> {
    const entries: [StatusName, number][] = [];
    for (let i = 0; i < this.counts.length; i++)
      if (this.counts[i]! > 0) entries.push([statusName(i), this.counts[i]!]);
    entries.sort((a, b) => b[1] - a[1]);
    return Object.fromEntries(entries);
  }

  /** `{ OK: 9000, "RESOURCE_EXHAUSTED local_admission": 800, DEADLINE_EXCEEDED: 12 }`: by status and reason, most frequent first. */
  byReason(): Record<string, number> {
    const entries: [string, number][] = [];
    if (this.ok > 0) entries.push(['OK', this.ok]);
    this.reasons.forEach((byReason, status) => {
      for (const [reason, n] of byReason ?? [])
        entries.push([reason === '' ? statusName(status) : `${statusName(status)} ${reason}`, n]);
    });
    entries.sort((a, b) => b[1] - a[1]);
    return Object.fromEntries(entries);
  }
}

/** The `reason` of a failed call (an RpcError's), '' when it has none. */
export function reasonOf(error: unknown): string {
  return error instanceof RpcError ? (error.reason ?? '') : '';
}

/**
 * The status of a failed call: an RpcError's own; a gRPC-style error's numeric `code` (so other
 * systems' clients can be driven by the same engine); UNKNOWN for anything else.
 */
export function statusOf(error: unknown): number {
  if (error instanceof RpcError) return error.status;
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (isStatus(code)) return code;
  }
  return Status.UNKNOWN;
}
