import { RpcError, Status } from '../errors.ts';
import type { TimerEntry } from '../deadline.ts';
import type { ContextChild, Metadata, RequestContext } from '../context.ts';
import type { MethodDescriptor } from '../service.ts';
import type { ClientConnection } from './client-connection.ts';

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
export class ClientCall implements TimerEntry, ContextChild {
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
  private done = false;
  /** Settles with the call's single outcome. */
  readonly promise: Promise<unknown>;
  private resolveCall!: (value: unknown) => void;
  private rejectCall!: (error: RpcError) => void;

  constructor(
    private readonly owner: CallOwner,
    readonly method: MethodDescriptor,
    readonly request: unknown,
    readonly parent: RequestContext | null,
    readonly deadline: number,
    /** The budget the call started with, for messages. */
    readonly timeoutMs: number,
    readonly business: number,
    readonly user: number,
    readonly traceId: string,
    readonly metadata: Metadata | null,
  ) {
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
    this.resolveCall(value);
  }

  /** The call's outcome is this error, whatever the retry rules say. */
  reject(error: RpcError): void {
    if (this.done) return;
    this.done = true;
    this.owner.callFailed(error);
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

  /** @internal The wheel: the deadline has come. */
  onTimer(): void {
    const where = this.connection === null ? '' : ` from ${this.connection.address}`;
    this.cancel(
      new RpcError(Status.DEADLINE_EXCEEDED, `${this.method.path}: no answer${where} within the ${this.timeoutMs} ms deadline`, {
        reason: 'deadline',
      }),
    );
  }

  /** @internal The request this call was made in was cancelled. */
  cancelFromParent(error: RpcError): void {
    this.cancel(error);
  }
}
