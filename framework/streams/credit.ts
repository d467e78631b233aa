import type { RpcError } from '../errors.ts';

/**
 * The sending end's view of the peer's window: how many message bytes it may send now (it sends
 * while any are left, so one message may overshoot). A producer with none waits in `wait()` until the peer grants more (CREDIT) or the stream ends (then
 * `wait()` rejects with why). One waiter at a time: each side of a stream has one producer loop.
 */
export class Credit {
  /** Bytes; may fall below 0 by the overshoot of the last message. */
  available = 0;
  private closedWith: RpcError | null = null;
  private resolveWaiter: (() => void) | null = null;
  private rejectWaiter: ((error: RpcError) => void) | null = null;

  grant(count: number): void {
    this.available += count;
    const resolve = this.resolveWaiter;
    if (resolve !== null && this.available > 0) {
      this.resolveWaiter = this.rejectWaiter = null;
      resolve();
    }
  }

  /** Resolves once a message may be sent; rejects once the stream has ended. */
  wait(): Promise<void> {
    if (this.closedWith !== null) return Promise.reject(this.closedWith);
    if (this.available > 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.resolveWaiter = resolve;
      this.rejectWaiter = reject;
    });
  }

  /** The stream ended: the waiter, and every later `wait()`, rejects with `error`. */
  close(error: RpcError): void {
    if (this.closedWith !== null) return;
    this.closedWith = error;
    const reject = this.rejectWaiter;
    this.resolveWaiter = this.rejectWaiter = null;
    reject?.(error);
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }
}
