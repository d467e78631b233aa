import { Reason, RpcError, Status } from '../errors.ts';
import type { TimerEntry } from '../deadline.ts';
import type { ContextChild, Metadata, RequestContext } from '../context.ts';
import { ADMIT_ALL } from '../priority.ts';
import { FrameKind } from '../protocol/index.ts';
import type { MethodDescriptor } from '../service.ts';
import type { ClientStream } from '../streams/client-stream.ts';
import type { ClientConnection } from './client-connection.ts';
import { type Resumable, resumeQueue } from './loop-turn.ts';

/** Where a call goes back to when an attempt fails: the channel, which may send it again. */
export interface CallOwner {
  attemptFailed(call: ClientCall, error: RpcError): void;
  callSucceeded(call: ClientCall): void;
  callFailed(error: RpcError): void;
}

/**
 * One call from `Channel.call` to its single outcome. It holds the promise's settle functions and
 * what a retry needs to send the call again; while an attempt is on a connection, it also is that
 * attempt's deadline entry in the shared wheel and a child of the request context it was made in
 * (so cancelling that request cancels it). One object per call, reused across attempts.
 */
// Its stream holds it as its ClientStreamHost (checked where it is made), the resume queue as a
// Resumable (checked where it is pushed); not in the implements clause, because the declarations
// leave those members out.
export class ClientCall implements TimerEntry, ContextChild {
  private readonly owner: CallOwner;
  readonly method: MethodDescriptor;
  readonly request: unknown;
  /** The request the call is made in, or null outside any. */
  readonly parent: RequestContext | null;
  /** Absolute, in `now()` time. */
  readonly deadline: number;
  /** The budget the call started with, for messages. */
  readonly timeoutMs: number;
  readonly business: number;
  readonly user: number;
  readonly traceId: string;
  readonly metadata: Metadata | null;
  timerExpiresAt = 0;
  timerSlot = -1;
  timerPrev: TimerEntry | null = null;
  timerNext: TimerEntry | null = null;
  /** The connection of the current attempt, or null between attempts. */
  connection: ClientConnection | null = null;
  /** The request id of the current attempt. */
  id = 0;
  /** Attempts after the first. */
  retries = 0;
  /** The address the last failed attempt went to: a retry prefers another. */
  lastAddress: string | null = null;
  /** The stream this call carries (Channel.openStream), or null for a unary call. */
  stream: ClientStream | null = null;
  private done = false;
  /** While the answer waits in the resume queue (loop-turn.ts): the next one, when it was read, and its result. */
  nextResume: Resumable | null = null;
  readAt = 0;
  private resumeResult: unknown = undefined;
  /** Settles with the call's single outcome. */
  readonly promise: Promise<unknown>;
  private resolveCall!: (value: unknown) => void;
  private rejectCall!: (error: RpcError) => void;

  constructor(init: ClientCallInit) {
    this.owner = init.owner;
    this.method = init.method;
    this.request = init.request;
    this.parent = init.parent;
    this.deadline = init.deadline;
    this.timeoutMs = init.timeoutMs;
    this.business = init.business;
    this.user = init.user;
    this.traceId = init.traceId;
    this.metadata = init.metadata;
    // The executor only hands over the settle functions: a closure over `this` alone, where one
    // over every argument of Channel.call cost a context object per call.
    this.promise = new Promise((resolve, reject) => {
      this.resolveCall = resolve;
      this.rejectCall = reject;
    });
  }

  /** True once the call has its outcome. */
  get settled(): boolean {
    return this.done;
  }

  /** The call's outcome is a result. */
  resolve(value: unknown): void {
    if (this.done) return;
    this.done = true;
    this.owner.callSucceeded(this);
    this.stream?.settle(null);
    this.resolveCall(value);
  }

  /** The call's outcome is `value`, read at `readAt`, delivered from the resume queue in a later immediate (for a call made in a server's handler). */
  resolveLater(value: unknown, readAt: number): void {
    this.resumeResult = value;
    this.readAt = readAt;
    resumeQueue.push(this);
  }

  /**
   * @internal Resumable: the resume queue delivers the result at `at`. If the request the call was
   * made in ended while the answer waited (its deadline, its caller's cancel), the handler gets
   * that instead: its caller has given up, so its work after the `await` would be wasted.
   */
  resume(at: number, waitedMs: number): void {
    const value = this.resumeResult;
    this.resumeResult = undefined;
    if (this.done) return;
    const parent = this.parent!;
    parent.loopWaits()?.waitedForLoop(waitedMs);
    const cancellation = parent.cancellationAt(at);
    if (cancellation !== null) this.reject(cancellation);
    else this.resolve(value);
  }

  /** The call's outcome is this error, whatever the retry rules say. */
  reject(error: RpcError): void {
    if (this.done) return;
    this.done = true;
    this.owner.callFailed(error);
    this.stream?.settle(error);
    this.rejectCall(error);
  }

  /** An attempt failed in a way a retry might fix: the channel decides. */
  attemptFailed(error: RpcError): void {
    if (!this.done) this.owner.attemptFailed(this, error);
  }

  /** Ends the call now (cancel, deadline), telling the server if an attempt is in flight. */
  cancel(error: RpcError): void {
    if (this.connection !== null) this.connection.abandon(this, error);
    else this.reject(error);
  }

  /** The wheel: the deadline has come. */
  onTimer(): void {
    const where = this.connection === null ? '' : ` from ${this.connection.address}`;
    this.cancel(
      new RpcError(
        Status.DEADLINE_EXCEEDED,
        `${this.method.path}: no answer${where} within the ${this.timeoutMs} ms deadline`,
        {
          reason: Reason.Deadline,
        },
      ),
    );
  }

  /** The request this call was made in was cancelled. */
  cancelFromParent(error: RpcError): void {
    this.cancel(error);
  }

  /** @internal ClientStreamHost: the server grants credit only once the stream is on a connection. */
  writeMessage(value: unknown): number {
    if (this.connection === null)
      throw new RpcError(Status.INTERNAL, `${this.method.path}: a message was sent before the stream was open`, {
        reason: Reason.StreamClosed,
      });
    try {
      return this.connection.writer.message(this.id, ADMIT_ALL, value);
    } catch (error) {
      throw new RpcError(Status.INVALID_ARGUMENT, `${this.method.path}: a message cannot be encoded`, {
        cause: error,
        reason: Reason.BadRequest,
      });
    }
  }

  /** @internal ClientStreamHost */
  writeCredit(count: number): void {
    this.connection?.writer.credit(this.id, count);
  }

  /** @internal ClientStreamHost */
  writeEnd(): void {
    this.connection?.writer.control(FrameKind.END, this.id);
  }
}

/** What a call is made of, given by name (so business and user priority cannot be swapped unseen). */
export type ClientCallInit = Pick<
  ClientCall,
  'method' | 'request' | 'parent' | 'deadline' | 'timeoutMs' | 'business' | 'user' | 'traceId' | 'metadata'
> & { readonly owner: CallOwner };
