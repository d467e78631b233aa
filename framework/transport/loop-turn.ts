/**
 * How long the event loop has been running in the current turn, and the calls waiting for a
 * later one: handlers are started only while the turn is short.
 *
 * A Node worker overloaded by CPU-bound handlers has a queue that no timestamp sees: while a
 * turn runs handler after handler, new requests wait in the kernel's socket buffers, and when
 * they are finally read they look fresh. Starting handlers only within a budget per turn, and
 * leaving the rest for the next turn, moves that wait into the process: the loop comes back to
 * its sockets every few milliseconds, reads what arrived (where the admission controller sees it
 * and can shed it from the header alone), fires timers and flushes answers, and the time a
 * request then spends waiting for its turn is measured as queuing time like any other.
 *
 * The loop is the process's, so the budget is too; each server keeps its own queue of deferred
 * calls, and the turns serve the non-empty queues in rotation, about a millisecond of calls each. A runtime worker may
 * host several servers: the one whose load saturates the loop builds the long queue and sheds,
 * while a light one beside it keeps a short queue and keeps serving (one shared FIFO made the
 * light server's calls wait behind the heavy one's, and both shed).
 */
import { now } from '../deadline.ts';

/** Handlers start synchronously in one turn until it has run this long; the rest wait for the next turn. */
export const TURN_BUDGET_MS = 5;
/**
 * In the rotation, a queue starts calls until they have run this long (at least one): cheap
 * calls go several at a time, so a light server's burst does not wait one heavy call per call
 * (deficit round robin, counted in time).
 */
const QUANTUM_MS = 1;

/** A call that can wait in a DeferredQueue: the queue links calls through this field (no allocation per call). */
export interface Deferrable<T> {
  nextDeferred: T | null;
}

/** What the loop's rotation sees of a queue. */
interface WaitingQueue {
  nextActive: WaitingQueue | null;
  active: boolean;
  startNext(at: number): boolean;
}

/** One server's calls waiting for a later turn, in arrival order. */
export class DeferredQueue<T extends Deferrable<T>> implements WaitingQueue {
  private head: T | null = null;
  private tail: T | null = null;
  /** The next queue in the loop's rotation while this one is in it. */
  nextActive: WaitingQueue | null = null;
  active = false;

  /** `start` runs a call whose turn has come, at `at` (a `now()` reading). */
  constructor(private readonly start: (call: T, at: number) => void) {}

  /**
   * True when a call that got its handler slot at `at` may start now: none of this server's
   * calls waits before it, and the loop's turn has run less than its budget.
   */
  mayStart(at: number): boolean {
    return this.head === null && loopTurn.elapsed(at) < TURN_BUDGET_MS;
  }

  /** Queues `call` for a later turn. */
  push(call: T): void {
    if (this.tail === null) this.head = call;
    else this.tail.nextDeferred = call;
    this.tail = call;
    if (!this.active) loopTurn.activate(this);
  }

  /** Starts calls for about QUANTUM_MS from `at` (at least one); false once the queue is empty. */
  startNext(at: number): boolean {
    const until = at + QUANTUM_MS;
    for (let call = this.head, time = at; call !== null; call = this.head, time = now()) {
      if (time >= until) return true;
      this.head = call.nextDeferred;
      if (this.head === null) this.tail = null;
      call.nextDeferred = null;
      this.start(call, time);
    }
    return false;
  }
}

class LoopTurn {
  /** When the current turn's first measurement was taken (`now()`), or -1 between turns. */
  private startedAt = -1;
  /** The queues with calls waiting: a ring through `nextActive`; `cursor` is served next, `last` precedes it. */
  private cursor: WaitingQueue | null = null;
  private last: WaitingQueue | null = null;
  private drainScheduled = false;
  private readonly end = (): void => {
    this.startedAt = -1;
  };
  private readonly drainBound = (): void => this.drain();

  /**
   * How long the current turn has run at `at`. The first measurement in a turn starts the count;
   * a `setImmediate` ends it (the loop's check phase, after the turn's reads, before the next ones).
   */
  elapsed(at: number): number {
    if (this.startedAt < 0) {
      this.startedAt = at;
      setImmediate(this.end);
    }
    return at - this.startedAt;
  }

  /**
   * A queue got its first waiting call: it joins the rotation where it is served first (as a new
   * flow in fq_codel): a server with a trickle of calls waits for one call of a busy one at most.
   */
  activate(queue: WaitingQueue): void {
    queue.active = true;
    if (this.last === null) {
      queue.nextActive = queue;
      this.last = queue;
    } else {
      queue.nextActive = this.cursor;
      this.last.nextActive = queue;
    }
    this.cursor = queue;
    this.scheduleDrain();
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(this.drainBound);
  }

  /**
   * One call from each waiting queue in turn, while the budget lasts; the rest waits for the next
   * turn. The drain runs in the check phase and measures from its own start: the reads before it
   * had their own budget.
   */
  private drain(): void {
    this.drainScheduled = false;
    this.startedAt = -1;
    try {
      for (let queue = this.cursor; queue !== null; queue = this.cursor) {
        const at = now();
        if (this.elapsed(at) >= TURN_BUDGET_MS) return this.scheduleDrain();
        const more = queue.startNext(at);
        // A start may have made another queue wait (one server's handler calling into another
        // synchronously): it joined the ring before `queue`, so find its predecessor again.
        if (this.cursor !== queue) this.last = this.predecessor(queue);
        if (more) {
          this.last = queue;
          this.cursor = queue.nextActive;
          continue;
        }
        // Empty: it leaves the rotation.
        queue.active = false;
        if (queue.nextActive === queue) {
          this.cursor = this.last = null;
        } else {
          this.last!.nextActive = queue.nextActive;
          this.cursor = queue.nextActive;
        }
        queue.nextActive = null;
      }
    } finally {
      // A handler that threw must not leave the other waiting calls without a drain; and the
      // reads after the drain measure their own turn.
      if (this.cursor !== null) this.scheduleDrain();
      this.startedAt = -1;
    }
  }

  /** The queue before `queue` in the ring. */
  private predecessor(queue: WaitingQueue): WaitingQueue {
    let previous = queue;
    while (previous.nextActive !== queue) previous = previous.nextActive!;
    return previous;
  }
}

/** The process's event loop is one: so is its turn. */
const loopTurn = new LoopTurn();

/**
 * True once the current turn has run its budget. A producer that finds nothing to wait for (a
 * stream with credit left, on a socket that takes every write) asks this and then waits for
 * `nextTurn()`, so the loop still comes back to its sockets and timers.
 */
export function turnBudgetSpent(): boolean {
  return loopTurn.elapsed(now()) >= TURN_BUDGET_MS;
}

let nextTurnWaiters: Promise<void> | null = null;

/**
 * Resolves in the loop's next turn (a `setImmediate`: after this turn's reads, before the next
 * ones). Every producer that waits in one turn gets the same promise, so they resume together
 * and share the new turn's budget: each with its own `setImmediate`, the first to resume spent
 * the whole budget before the others' callbacks ran, and one stream of many kept the connection.
 */
export function nextTurn(): Promise<void> {
  nextTurnWaiters ??= new Promise((resolve) =>
    setImmediate(() => {
      nextTurnWaiters = null;
      resolve();
    }),
  );
  return nextTurnWaiters;
}

/**
 * A downstream answer that resumes a handler of this process's server: what the handler does
 * after its `await` runs when the answer is delivered.
 */
export interface Resumable {
  /** The next answer waiting for a later turn (the queue links answers through it). */
  nextResume: Resumable | null;
  /** When the answer was read (`now()`). */
  readAt: number;
  /** Delivers the answer at `at`, having waited `waitedMs` for it. */
  resume(at: number, waitedMs: number): void;
}

/**
 * Downstream answers waiting for a turn. The turn budget bounds the handlers a server starts, but
 * a handler that awaits a downstream call and then computes runs its CPU-bound part when the
 * answer is delivered, in the client connection's read: a read that brings twenty answers runs
 * twenty continuations before the loop returns to its sockets, and the requests behind them wait
 * unseen in the kernel. So a read delivers one such answer at once and queues the rest, and the
 * queue delivers one answer per `setImmediate` (Node runs the microtasks, where the continuation
 * runs, between two immediates) while the turn is within its budget, the rest in later turns.
 * The wait is the handler's queuing time: the caller counts it in its server's controller.
 */
class ResumeQueue {
  private head: Resumable | null = null;
  private tail: Resumable | null = null;
  private readonly resumeNextBound = (): void => this.resumeNext();

  /** True when an answer read at `at` may be delivered now: none waits before it and the turn is within its budget. */
  mayResume(at: number): boolean {
    return this.head === null && loopTurn.elapsed(at) < TURN_BUDGET_MS;
  }

  /** Queues `answer` for delivery in a later immediate. */
  push(answer: Resumable): void {
    if (this.tail === null) this.head = answer;
    else this.tail.nextResume = answer;
    this.tail = answer;
    setImmediate(this.resumeNextBound);
  }

  /** One immediate per queued answer: each delivers the oldest, unless the turn is spent, when it waits for the next. */
  private resumeNext(): void {
    const at = now();
    if (loopTurn.elapsed(at) >= TURN_BUDGET_MS) {
      setImmediate(this.resumeNextBound);
      return;
    }
    const answer = this.head!;
    this.head = answer.nextResume;
    if (this.head === null) this.tail = null;
    answer.nextResume = null;
    answer.resume(at, at - answer.readAt);
  }
}

/** The answers that resume this process's handlers, in the order they were read. */
export const resumeQueue = new ResumeQueue();
