import { BUSINESS_LEVELS } from '../priority.ts';

/**
 * Retries of overload rejections, bounded so that retries cannot multiply an overload: a token
 * bucket per business priority, which every successful call of that priority refills by `ratio`
 * (up to `maxTokens`) and every retry of that priority drains by one. Over time, retries are at
 * most `ratio` of successful calls (plus a small burst), and each business priority pays for its
 * own: during a spike the rejections of the least important calls, which are many, cannot use up
 * the retries of the most important ones. Which failures are worth a retry is the channel's
 * decision (see retry-rules.ts).
 */
export class RetryBudget {
  private readonly tokens: Float64Array;

  constructor(
    /** Retries per call at most (the paper retried up to 3 times). */
    readonly maxRetries: number,
    private readonly ratio: number,
    readonly maxTokens: number,
  ) {
    this.tokens = new Float64Array(BUSINESS_LEVELS).fill(maxTokens);
  }

  /** Retries that calls of business priority `business` could spend now. */
  available(business: number): number {
    return Math.floor(this.tokens[business]!);
  }

  /** A call of business priority `business` succeeded. */
  success(business: number): void {
    const tokens = this.tokens[business]! + this.ratio;
    this.tokens[business] = tokens > this.maxTokens ? this.maxTokens : tokens;
  }

  /** Takes a token for one retry of a call of business priority `business`; false (and nothing taken) when its budget is spent. */
  trySpend(business: number): boolean {
    const tokens = this.tokens[business]!;
    if (tokens < 1) return false;
    this.tokens[business] = tokens - 1;
    return true;
  }
}
