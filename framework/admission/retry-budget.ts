/**
 * Retries of overload rejections, bounded so that retries cannot multiply an overload: a token
 * bucket that every successful call refills by `ratio` (up to `maxTokens`) and every retry
 * drains by one. Over time, retries are at most `ratio` of successful calls (plus a small burst).
 * Which failures are worth a retry is the channel's decision (see Channel.attemptFailed).
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

  /** Takes a token for one retry; false (and nothing taken) when the budget is spent. */
  trySpend(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
