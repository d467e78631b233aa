import type { RpcError } from './errors.ts';
import { sharedWheel, type TimerEntry } from './deadline.ts';
import { currentContext, type ContextChild, type RequestContext } from './context.ts';
import { integerOption } from './options.ts';

/**
 * Synchronisation that respects the request, in the spirit of libco's co_cond and semaphores:
 * every wait ends at the current request's deadline (DEADLINE_EXCEEDED) or when the request is
 * cancelled (CANCELLED), so a handler never outlives its caller's interest while it waits.
 * Outside any request, a wait lasts until it is woken.
 */

class Waiter implements TimerEntry, ContextChild {
  timerExpiresAt = 0;
  timerSlot = -1;
  timerPrev: TimerEntry | null = null;
  timerNext: TimerEntry | null = null;

  constructor(
    private readonly queue: WaitQueue,
    readonly resolve: () => void,
    private readonly reject: (error: RpcError) => void,
    readonly context: RequestContext | null,
  ) {}

  /** The request's deadline came first (only a waiter with a context is in the wheel). */
  onTimer(): void {
    this.fail(this.context!.deadlineError(new Error(`${this.queue.what}: the deadline passed while waiting`)));
  }

  cancelFromParent(error: RpcError): void {
    this.fail(error);
  }

  private fail(error: RpcError): void {
    if (this.queue.forget(this)) this.reject(error);
  }
}

/** A FIFO of waiting async functions, each bounded by its request's deadline. */
class WaitQueue {
  private readonly waiters = new Set<Waiter>();

  constructor(readonly what: string) {}

  get length(): number {
    return this.waiters.size;
  }

  wait(): Promise<void> {
    const context = currentContext() ?? null;
    if (context?.cancelled) {
      try {
        context.throwIfCancelled();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise((resolve, reject) => {
      const waiter = new Waiter(this, resolve, reject, context);
      this.waiters.add(waiter);
      if (context !== null) {
        // Only the wheel will end this wait, so it must keep the process alive meanwhile.
        sharedWheel.hold();
        sharedWheel.add(waiter, context.deadline);
        context.addChild(waiter);
      }
    });
  }

  /** Wakes the longest waiting; false if none waits. */
  wakeOne(): boolean {
    for (const waiter of this.waiters) {
      this.forget(waiter);
      waiter.resolve();
      return true;
    }
    return false;
  }

  wakeAll(): void {
    while (this.wakeOne());
  }

  /** Removes a waiter; false if it was already gone. */
  forget(waiter: Waiter): boolean {
    if (!this.waiters.delete(waiter)) return false;
    if (waiter.context !== null) {
      sharedWheel.remove(waiter);
      sharedWheel.release();
      waiter.context.removeChild(waiter);
    }
    return true;
  }
}

/** Limits how many tasks use a resource at once. */
export class Semaphore {
  private permits: number;
  private readonly queue: WaitQueue;

  constructor(permits: number, name = 'semaphore') {
    this.permits = integerOption('permits', permits, 1, 0);
    this.queue = new WaitQueue(name);
  }

  get available(): number {
    return this.permits;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Takes a permit, waiting (at most until the request's deadline) if none is free. */
  async acquire(): Promise<void> {
    if (this.permits > 0 && this.queue.length === 0) {
      this.permits--;
      return;
    }
    // A released permit is handed straight to the woken waiter.
    await this.queue.wait();
  }

  release(): void {
    if (!this.queue.wakeOne()) this.permits++;
  }

  /** Runs `task` holding a permit. */
  async use<T>(task: () => Promise<T> | T): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }
}

/** Waits for a group of tasks to finish (Go's WaitGroup). */
export class WaitGroup {
  private count = 0;
  private readonly queue: WaitQueue;

  constructor(name = 'wait group') {
    this.queue = new WaitQueue(name);
  }

  get pending(): number {
    return this.count;
  }

  add(delta = 1): void {
    this.count += delta;
    if (this.count < 0) throw new RangeError('WaitGroup: done() called more often than add()');
    if (this.count === 0) this.queue.wakeAll();
  }

  done(): void {
    this.add(-1);
  }

  /** Resolves when the count is zero (at once if it is). */
  wait(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : this.queue.wait();
  }
}

/** Resolves after `ms`, or rejects when the current request's deadline or cancellation comes first. */
export function sleep(ms: number): Promise<void> {
  const queue = new WaitQueue('sleep');
  const timer = setTimeout(() => queue.wakeAll(), ms);
  return queue.wait().finally(() => clearTimeout(timer));
}
