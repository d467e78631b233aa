import { statusName, type RpcError, type StatusName } from '../errors.ts';

/** Which side of the wire decided a failed call: the server that answered, or this client (nothing sent, no answer, shed locally). */
export type CallSide = 'server' | 'client';

/** Failed calls of one side, status and reason. */
export interface FailedCalls {
  side: CallSide;
  code: StatusName;
  /** The error's `reason` (`local_admission`, `admission_level`, `deadline`…), '' when it had none. */
  reason: string;
  count: number;
}

/** What `Channel.stats()` reports: running totals since the channel was created, and its current state. */
export interface ChannelStats {
  target: string;
  /** Calls whose outcome was a result. */
  ok: number;
  /** Calls whose outcome was an error, by side, status and reason. */
  failed: FailedCalls[];
  /** Attempts after a call's first. */
  retries: number;
  /** Retries the retry budget refused (its tokens for that business priority were spent). */
  retriesDenied: number;
  /** Retry tokens left, indexed by business priority (`maxRetryTokens` when untouched). */
  retryTokens: number[];
  maxRetryTokens: number;
  /** The most restrictive admission level the callee's endpoints reported that is still in force (ADMIT_ALL when none). */
  admissionLevel: number;
}

/**
 * A channel's outcome counters. A success is one increment; a failure (which has built an error
 * already) one lookup by status, then by reason: no allocation once a (side, status, reason) was seen.
 */
export class CallCounters {
  ok = 0;
  retries = 0;
  retriesDenied = 0;
  /** Per side (0 client, 1 server), per status number: counts by reason. */
  private readonly failures: Map<string, FailedCalls>[][] = [[], []];

  failed(error: RpcError, server: boolean): void {
    const byStatus = this.failures[server ? 1 : 0]!;
    const byReason = (byStatus[error.status] ??= new Map());
    const reason = error.reason ?? '';
    const entry = byReason.get(reason);
    if (entry !== undefined) entry.count++;
    else byReason.set(reason, { side: server ? 'server' : 'client', code: statusName(error.status), reason, count: 1 });
  }

  /** Copies of the failure counts. */
  failedCalls(): FailedCalls[] {
    const list: FailedCalls[] = [];
    for (const byStatus of this.failures)
      for (const byReason of byStatus)
        if (byReason !== undefined) for (const entry of byReason.values()) list.push({ ...entry });
    return list;
  }
}
