import { RpcError, Status, isStatus, statusName, type StatusName } from 'corpc';

/** Counts of finished requests by status, indexed by status number (no allocation per request). */
export class Outcomes {
  private readonly counts = new Float64Array(17);

  add(status: number): void {
    this.counts[status]++;
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
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i]! > 0) entries.push([statusName(i), this.counts[i]!]);
    entries.sort((a, b) => b[1] - a[1]);
    return Object.fromEntries(entries);
  }
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
