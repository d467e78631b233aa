import { Reason, RpcError, Status } from '../errors.ts';

/** What an inbox tells the side that owns it. */
export interface InboxOwner {
  /** The consumer took `count` messages: let the sender send that many more (a CREDIT frame). */
  grant(count: number): void;
  /** The consumer stopped reading before the end (`break` out of its `for await`). */
  abandon(): void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * The receiving end of one direction of a stream: messages the peer sent, waiting for the
 * consumer's `for await`. Credit is counted in message bytes (MessagePack, as on the wire). The
 * peer may send while it has credit left (so one message may overshoot it): the window at
 * `open()`, then what the consumer has taken, granted back in batches of half the window (one
 * CREDIT frame per batch, not per message). So at most a window and one message ever wait here,
 * however slow the consumer; small messages get many in flight, large ones few.
 *
 * Messages that arrived before the stream ended or failed are delivered first; the end (or the
 * error, thrown from `next()`) comes after them.
 */
export class Inbox<T> implements AsyncIterableIterator<T> {
  private readonly queue: T[] = [];
  /** The wire size of each message in `queue`. */
  private readonly sizes: number[] = [];
  private head = 0;
  /** Bytes the peer may still send (it may overshoot by one message). */
  private credit = 0;
  /** Bytes taken by the consumer and not yet granted back. */
  private taken = 0;
  private readonly regrantAt: number;
  /** Set once no more messages come: the peer ended (null) or the stream failed. */
  private ended = false;
  private error: RpcError | null = null;
  /** The consumer has left (or has seen the end). */
  private closed = false;
  private resolveWaiter: ((result: IteratorResult<T>) => void) | null = null;
  private rejectWaiter: ((error: RpcError) => void) | null = null;

  constructor(
    private readonly owner: InboxOwner,
    /** Bytes. */
    readonly window: number,
  ) {
    this.regrantAt = Math.max(1, Math.floor(window / 2));
  }

  /** Grants the first window. */
  open(): void {
    this.credit = this.window;
    this.owner.grant(this.window);
  }

  /** Messages waiting for the consumer. */
  get buffered(): number {
    return this.queue.length - this.head;
  }

  /** One message of `bytes` from the peer; false (and nothing kept) when it had no credit left for it. */
  push(message: T, bytes: number): boolean {
    if (this.credit <= 0) return false;
    this.credit -= bytes;
    if (this.closed || this.ended) return true;
    const resolve = this.resolveWaiter;
    if (resolve !== null) {
      this.resolveWaiter = this.rejectWaiter = null;
      this.take(bytes);
      resolve({ done: false, value: message });
    } else {
      this.queue.push(message);
      this.sizes.push(bytes);
    }
    return true;
  }

  /** The peer sends no more messages. */
  end(): void {
    this.finish(null);
  }

  /** The stream failed: `next()` throws `error` once the messages before it are taken. */
  fail(error: RpcError): void {
    this.finish(error);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.queue.length) {
      const message = this.queue[this.head]!;
      const bytes = this.sizes[this.head]!;
      this.queue[this.head++] = undefined as T;
      if (this.head === this.queue.length) this.queue.length = this.sizes.length = this.head = 0;
      this.take(bytes);
      return Promise.resolve({ done: false, value: message });
    }
    if (this.closed) return Promise.resolve(DONE);
    if (this.ended) {
      this.closed = true;
      return this.error === null ? Promise.resolve(DONE) : Promise.reject(this.error);
    }
    return new Promise((resolve, reject) => {
      this.resolveWaiter = resolve;
      this.rejectWaiter = reject;
    });
  }

  /** The consumer leaves early (`break`): what is buffered is dropped and the owner told. */
  return(): Promise<IteratorResult<T>> {
    const early = !this.ended && !this.closed;
    this.closed = true;
    this.queue.length = this.sizes.length = this.head = 0;
    if (early) this.owner.abandon();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private take(bytes: number): void {
    this.taken += bytes;
    if (this.taken < this.regrantAt || this.ended) return;
    this.credit += this.taken;
    this.owner.grant(this.taken);
    this.taken = 0;
  }

  private finish(error: RpcError | null): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    const resolve = this.resolveWaiter;
    const reject = this.rejectWaiter;
    if (resolve === null || reject === null) return;
    this.resolveWaiter = this.rejectWaiter = null;
    this.closed = true;
    if (error === null) resolve(DONE);
    else reject(error);
  }
}

/**
 * Message bytes a receiver lets its peer send ahead of its consumer, unless configured
 * (`streamWindowBytes`): thousands of small messages, 32 of 4 KiB.
 */
export const DEFAULT_STREAM_WINDOW_BYTES = 128 * 1024;
/** The largest window: memory the receiver commits to per stream (a CREDIT count is a u32). */
export const MAX_STREAM_WINDOW_BYTES = 64 * 1024 * 1024;

/** The largest stream message a receiver takes, unless configured (`maxMessageBytes`, server and client alike). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/** Why a stream ends when its peer sends a message over `maxMessageBytes` (`from`: "a message", or who sent it). */
export function messageTooLarge(path: string, from: string, bytes: number, limit: number): RpcError {
  return new RpcError(
    Status.RESOURCE_EXHAUSTED,
    `${path}: ${from} of ${bytes} bytes exceeds the limit of ${limit} bytes (maxMessageBytes)`,
    { reason: Reason.MessageTooLarge },
  );
}
