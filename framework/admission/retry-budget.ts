import { Status } from '../errors.ts';
import type { RpcError } from '../errors.ts';

/**
 * Retries of overload rejections, bounded so that retries cannot multiply an overload: a token
 * bucket that every successful call refills by `ratio` (up to `maxTokens`) and every retry
 * drains by one. Over time, retries are at most `ratio` of successful calls (plus a small burst).
 */
export class RetryBudget {
  private tokens: number;

  constructor(
    /** Retries per call at most (the paper retried up to 3 times). */
    readonly maxRetries: number,
    private readonly ratio: number,
    private readonly maxTokens: number,
  ) {
    this.tokens = maxTokens;
  }

  /** A call succeeded. */
  success(): void {
    const tokens = this.tokens + this.ratio;
    this.tokens = tokens > this.maxTokens ? this.maxTokens : tokens;
  }

  /**
   * Whether a failed attempt may be retried (and if so, spends a token): only RESOURCE_EXHAUSTED
   * that a callee decided (`remote`), never a local rejection; only with time left before the
   * deadline and tokens in the budget.
   */
  allows(error: RpcError, remote: boolean, attempt: number, deadline: number, at: number): boolean {
    if (!remote || error.status !== Status.RESOURCE_EXHAUSTED || attempt > this.maxRetries || deadline - at < 1) return false;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
