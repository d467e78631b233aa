import { debuglog } from 'node:util';
import { RpcError } from '../errors.ts';
import { now } from '../deadline.ts';
import type { Endpoint, ParsedAddress } from './address.ts';
import type { Resolver } from './resolver.ts';

const debug = debuglog('corpc:resolver');

/** What a watch reports: the current endpoints, or why the address cannot be resolved. */
export interface WatchListener {
  onEndpoints(endpoints: Endpoint[]): void;
  onResolveError(error: RpcError): void;
}

/** Re-resolution never runs more often than this (a flapping connection must not flood DNS). */
const MIN_INTERVAL_MS = 1000;
const MAX_ERROR_BACKOFF_MS = 30_000;

/**
 * Keeps an address resolved in the background: again shortly before its answers expire, and
 * (rate limited) when a connection to one of its endpoints fails. Reports only changes.
 * Timers are unref'd: a watch never keeps the process alive.
 */
export class AddressWatch {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private closed = false;
  private lastKey = '';
  private lastRunAt = -Infinity;
  private errors = 0;
  private refreshWanted = false;

  constructor(
    private readonly resolver: Resolver,
    private readonly parsed: ParsedAddress,
    private readonly listener: WatchListener,
  ) {
    void this.run(0);
  }

  /** A connection to one of the endpoints failed: resolve again soon, bypassing the cache. */
  refresh(): void {
    if (this.closed) return;
    if (this.running) {
      this.refreshWanted = true;
      return;
    }
    const wait = this.lastRunAt + MIN_INTERVAL_MS - now();
    this.schedule(wait, Infinity);
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delayMs: number, aheadMs: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = null;
        void this.run(aheadMs);
      },
      Math.max(0, delayMs),
    );
    this.timer.unref();
  }

  private async run(aheadMs: number): Promise<void> {
    if (this.closed) return;
    this.running = true;
    this.lastRunAt = now();
    try {
      const { endpoints, checkAt } = await this.resolver.resolveParsed(this.parsed, aheadMs);
      if (this.closed) return;
      this.errors = 0;
      const key = endpoints
        .map((e) => `${e.host} ${e.port} ${e.priority ?? 0} ${e.weight ?? 0}`)
        .sort()
        .join(',');
      if (key !== this.lastKey) {
        this.lastKey = key;
        debug('%s → %s', this.parsed.address, key);
        this.listener.onEndpoints(endpoints);
      }
      if (checkAt !== Infinity) {
        // Refresh ahead of expiry: a fifth of the remaining time before it, at most a second.
        const remaining = checkAt - this.resolver.now();
        const ahead = Math.min(MIN_INTERVAL_MS, Math.max(0, remaining) / 5);
        this.schedule(Math.max(remaining - ahead, MIN_INTERVAL_MS / 4), ahead + 1);
      }
    } catch (error) {
      if (this.closed) return;
      this.errors++;
      this.listener.onResolveError(RpcError.from(error, `resolving ${this.parsed.address}`));
      this.schedule(Math.min(MAX_ERROR_BACKOFF_MS, MIN_INTERVAL_MS * 2 ** (this.errors - 1)), 0);
    } finally {
      this.running = false;
    }
    if (this.refreshWanted && !this.closed) {
      this.refreshWanted = false;
      this.refresh();
    }
  }
}
