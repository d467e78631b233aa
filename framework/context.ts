import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { Reason, RpcError, Status } from './errors.ts';
import { now, sharedWheel, type TimerEntry } from './deadline.ts';
import { LOWEST_BUSINESS_PRIORITY, USER_LEVELS, checkBusinessPriority, checkUserPriority } from './priority.ts';
import { integerOption } from './options.ts';

/**
 * The request context: what a coroutine-local variable is to a libco service, an
 * AsyncLocalStorage store is to an `async` handler. Inside a handler, and in everything it
 * awaits, `context()` returns the current request's deadline, priorities, trace id, caller and
 * metadata, and outgoing calls inherit them without being passed anything.
 */

export type Metadata = Readonly<Record<string, string>>;

/** The deadline of a call made outside any request, unless the call or its client says otherwise. */
export const DEFAULT_TIMEOUT_MS = 500;

/** Something that ends when the context it was started in is cancelled: an outgoing call, a wait. */
export interface ContextChild {
  cancelFromParent(error: RpcError): void;
}

const emptyMetadata: Metadata = Object.freeze({});
const storage = new AsyncLocalStorage<RequestContext>();

const tracePrefix = randomBytes(6).toString('hex');
let traceSequence = 0;

/** @internal Counts the time a handler waited for the event loop after an `await` as its queuing time. */
export interface LoopWaits {
  waitedForLoop(ms: number): void;
}

// The shared wheel holds contexts as TimerEntry values (checked where they are added); no
// `implements` clause, because the declarations leave those members out (internal).
export class RequestContext {
  /** The wire name of the method being served (`"Echo/echo"`), or a label for a root context. */
  readonly method: string;
  /** Absolute deadline on this process's monotonic clock (see `now()`). */
  readonly deadline: number;
  readonly businessPriority: number;
  readonly userPriority: number;
  readonly traceId: string;
  /** Who sent the request (`"127.0.0.1:53012"`), or `""` for a context started in this process. */
  readonly caller: string;
  readonly metadata: Metadata;

  private controller: AbortController | null = null;
  private cancellation: RpcError | null = null;
  private ended = false;
  private children: Set<ContextChild> | null = null;

  /** @internal */
  timerExpiresAt = 0;
  /** @internal */
  timerSlot = -1;
  /** @internal */
  timerPrev: TimerEntry | null = null;
  /** @internal */
  timerNext: TimerEntry | null = null;

  constructor(
    method: string,
    deadline: number,
    businessPriority: number,
    userPriority: number,
    traceId: string,
    caller: string,
    metadata: Metadata | null,
  ) {
    this.method = method;
    this.deadline = deadline;
    this.businessPriority = businessPriority;
    this.userPriority = userPriority;
    this.traceId = traceId;
    this.caller = caller;
    this.metadata = metadata ?? emptyMetadata;
  }

  /** Milliseconds left before the deadline (never negative). */
  remainingMs(): number {
    const left = this.deadline - now();
    return left > 0 ? left : 0;
  }

  /**
   * How long the request waited in this process before its handler started, in ms (the
   * admission controller adds the event-loop delay to this). 0 for a context started here.
   */
  get queuingMs(): number {
    return 0;
  }

  /** @internal
   * Where the time this request's handler waits for the event loop after an `await` counts as
   * queuing time (the admission controller of the server serving it), or null for a context made
   * in this process (loop-turn.ts, `resumeQueue`).
   */
  loopWaits(): LoopWaits | null {
    return null;
  }

  /** True once the caller cancelled or the deadline passed. */
  get cancelled(): boolean {
    return this.isCancelledAt(now());
  }

  /** @internal Whether the request was cancelled, or past its deadline, at `time` (a `now()` reading). */
  isCancelledAt(time: number): boolean {
    return this.cancellation !== null || time >= this.deadline;
  }

  /**
   * Aborts when the deadline passes or the caller cancels. Created on first use only: a handler
   * that never asks for it costs no AbortController and no timer.
   */
  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      const reason = this.cancellationAt(now());
      if (reason !== null) this.controller.abort(reason);
      else if (!this.ended) sharedWheel.add(this, this.deadline);
    }
    return this.controller.signal;
  }

  /** Throws the cancellation (CANCELLED or DEADLINE_EXCEEDED) if the request should stop now. */
  throwIfCancelled(): void {
    const reason = this.cancellationAt(now());
    if (reason !== null) throw reason;
  }

  /** @internal Why the request must stop at `time` (a `now()` reading): the caller's cancellation or the deadline; null while it may go on. */
  cancellationAt(time: number): RpcError | null {
    if (this.cancellation !== null) return this.cancellation;
    return time >= this.deadline ? this.deadlineError() : null;
  }

  /** @internal Ends the request early: aborts its signal and cancels every call and wait started under it. */
  cancel(error: RpcError): void {
    if (this.cancellation !== null) return;
    this.cancellation = error;
    sharedWheel.remove(this);
    this.controller?.abort(error);
    const children = this.children;
    if (children !== null) {
      this.children = null;
      for (const child of children) child.cancelFromParent(error);
    }
  }

  /**
   * Makes `traceId` the request's trace id from here on (its logs, the calls it makes). For a
   * tracing interceptor, before the handler runs: with OpenTelemetry, a request's trace id is its
   * span's, so that one request is known by one id.
   */
  adoptTraceId(traceId: string): void {
    (this as { traceId: string }).traceId = traceId;
  }

  /** @internal The handler is done: stop watching the deadline. */
  end(): void {
    this.ended = true;
    sharedWheel.remove(this);
  }

  /** @internal Called by the wheel at the deadline, only when the signal was asked for. */
  onTimer(): void {
    this.cancel(this.deadlineError());
  }

  /** @internal Registers a call or wait that must end when this context is cancelled. */
  addChild(child: ContextChild): void {
    if (this.cancellation !== null) {
      child.cancelFromParent(this.cancellation);
      return;
    }
    (this.children ??= new Set()).add(child);
  }

  /** @internal */
  removeChild(child: ContextChild): void {
    this.children?.delete(child);
  }

  /**
   * @internal The error of this request's deadline, worded for its caller: whatever was waiting
   * when it passed (a `sleep`, a semaphore…) is this process's business: it goes in `cause`, for logs.
   */
  deadlineError(cause?: unknown): RpcError {
    return new RpcError(Status.DEADLINE_EXCEEDED, `${this.method}: the deadline passed before the request finished`, {
      reason: Reason.Deadline,
      cause,
    });
  }
}

/** The current request's context; throws when called outside any request. */
export function context(): RequestContext {
  const current = storage.getStore();
  if (current === undefined) {
    throw new RpcError(
      Status.FAILED_PRECONDITION,
      'context() was called outside a request: call it inside a handler, or start one with withContext()',
      { reason: Reason.NoContext },
    );
  }
  return current;
}

/** The current request's context, or undefined outside any request. */
export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

/** Runs `fn` with `ctx` as the current context. */
export function runInContext<A extends unknown[], R>(ctx: RequestContext, fn: (...args: A) => R, ...args: A): R {
  return storage.run(ctx, fn, ...args);
}

/**
 * Whether AsyncLocalStorage runs on AsyncContextFrame (the default from Node 24, opt-in on 22;
 * Node 20 uses async_hooks): there a frame is an immutable map, and a store set with `enterWith`
 * inside an async scope is gone when the scope ends, where async_hooks would keep it on the
 * scope's resource. Told from the version and flags, not by trying: on async_hooks, the first
 * `enterWith` would turn on the promise hooks for the whole process (a client that never serves
 * a request would pay them on every promise).
 */
function usesContextFrames(): boolean {
  const major = Number(process.versions.node.split('.')[0]);
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (major >= 24) return !flags.includes('--no-async-context-frame');
  return major >= 22 && flags.includes('--experimental-async-context-frame');
}

const contextFrames = usesContextFrames();

function enterAndCall<A, B, C, R>(ctx: RequestContext, fn: (a: A, b: B, c: C) => R, a: A, b: B, c: C): R {
  storage.enterWith(ctx);
  return fn(a, b, c);
}

/**
 * Where a server runs its handlers: each in its request's context, on top of the async context
 * of the place the scope was made (a connection: that of the server that accepted it).
 *
 * On AsyncContextFrame, `storage.run()` builds two frames per call (one to enter, one to
 * restore) and costs ~1 µs; here the scope's async resource restores the frame it was entered
 * from for nothing, so a call builds one frame (`enterWith`), the one its continuations need.
 * On async_hooks, `run()` is the cheap way, and `enterWith` would stick to the resource.
 */
export class HandlerScope {
  private readonly resource = contextFrames ? new AsyncResource('corpc.handler', { requireManualDestroy: true }) : null;

  /** Calls `fn(a, b, c)` with `ctx` as the current context. */
  run<A, B, C, R>(ctx: RequestContext, fn: (a: A, b: B, c: C) => R, a: A, b: B, c: C): R {
    if (this.resource === null) return storage.run(ctx, fn, a, b, c);
    return this.resource.runInAsyncScope(enterAndCall<A, B, C, R>, null, ctx, fn, a, b, c);
  }
}

/** A fresh trace id: unique per process start and call, cheap to make. */
export function newTraceId(): string {
  return tracePrefix + (traceSequence++).toString(36);
}

/**
 * The user priority of a root call that names no user: derived from its trace, so that every
 * call of one task shares it (the task succeeds or fails as a whole) while tasks spread evenly
 * over the levels.
 */
export function userPriorityOfTrace(traceId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < traceId.length; i++) hash = Math.imul(hash ^ traceId.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % USER_LEVELS;
}

export interface ContextOptions {
  /** Time budget in ms; a nested context never outlives its parent. Default 500. */
  timeoutMs?: number;
  businessPriority?: number;
  userPriority?: number;
  traceId?: string;
  metadata?: Metadata;
  /** A label for logs and errors. Default `"local"`. */
  name?: string;
}

/**
 * Runs `fn` inside a new request context: a root one outside any request, or a narrower child
 * of the current one (its deadline is the earlier of the two; unspecified fields are inherited).
 * Entry adapters and scripts use it to start a request with chosen priorities.
 */
export function withContext<R>(options: ContextOptions, fn: () => R): R {
  const parent = storage.getStore();
  const timeoutMs = integerOption('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS, 0);
  let deadline = now() + timeoutMs;
  if (parent !== undefined && parent.deadline < deadline) deadline = parent.deadline;
  const traceId = options.traceId ?? parent?.traceId ?? newTraceId();
  const ctx = new RequestContext(
    options.name ?? parent?.method ?? 'local',
    deadline,
    checkBusinessPriority('businessPriority', options.businessPriority) ??
      parent?.businessPriority ??
      LOWEST_BUSINESS_PRIORITY,
    checkUserPriority('userPriority', options.userPriority) ?? parent?.userPriority ?? userPriorityOfTrace(traceId),
    traceId,
    parent?.caller ?? '',
    options.metadata ?? parent?.metadata ?? null,
  );
  if (parent === undefined) return storage.run(ctx, fn);
  const link: ContextChild = { cancelFromParent: (error) => ctx.cancel(error) };
  parent.addChild(link);
  const unlink = (): void => {
    parent.removeChild(link);
    ctx.end();
  };
  let result: R;
  try {
    result = storage.run(ctx, fn);
  } catch (error) {
    unlink();
    throw error;
  }
  if (result instanceof Promise) result.then(unlink, unlink);
  else unlink();
  return result;
}
