import { Reason, RpcError, Status } from '../errors.ts';
import type { ContextChild, RequestContext } from '../context.ts';
import type { MethodKind } from '../service.ts';
import { Credit } from './credit.ts';
import { Inbox, type InboxOwner } from './inbox.ts';
import { isAsyncIterable } from './types.ts';

/** What a server-side stream needs from its call and connection. */
export interface ServerStreamHost {
  /** Writes one MESSAGE frame (with the admission level) and returns its message's bytes; throws, writing nothing, if it cannot be encoded. */
  writeMessage(value: unknown): number;
  /** Grants the client `count` more message bytes (a CREDIT frame). */
  writeCredit(count: number): void;
  /** null while the connection takes more bytes; else resolves once its socket has drained. */
  whenWritable(): Promise<void> | null;
}

/**
 * The server's side of one stream: it runs the handler as a loop. The responses of a server or
 * bidirectional stream are pulled from the handler's async iterator one at a time, and only
 * while the client has granted credit and the socket takes bytes: with neither, the generator is
 * not resumed, so it waits at its `yield`. The client's messages wait in an inbox that grants
 * credit back as the handler reads them.
 *
 * When the stream must stop (the caller cancelled, the deadline passed, the client broke a
 * limit, the server shuts down), the inbox and the credit fail with the reason, and the
 * generator is closed with `return()` so its `finally` runs.
 */
export class ServerStream implements InboxOwner, ContextChild {
  readonly credit = new Credit();
  /** The client's messages; null for a server stream, whose only request came with OPEN. */
  readonly inbox: Inbox<unknown> | null;

  constructor(
    private readonly host: ServerStreamHost,
    readonly kind: MethodKind,
    windowBytes: number,
  ) {
    this.inbox = kind === 'client-stream' || kind === 'bidi-stream' ? new Inbox(this, windowBytes) : null;
  }

  /**
   * Runs `handler` for this stream inside `context`; resolves with the reply of a client stream
   * (undefined for the others) once the handler is done, or rejects with what it threw or why
   * the stream stopped.
   */
  async run(
    handler: (input: unknown, context: RequestContext) => unknown,
    request: unknown,
    context: RequestContext,
  ): Promise<unknown> {
    context.addChild(this);
    // The deadline is watched even if the handler never looks at its signal.
    void context.signal;
    const inbox = this.inbox;
    inbox?.open();
    if (this.kind === 'client-stream') return await handler(inbox, context);
    // Awaited: behind interceptors, the handler's iterable comes as a promise.
    await this.pump(await handler(inbox ?? request, context), context.method);
    return undefined;
  }

  /** A MESSAGE of `bytes` from the client; false when it had no credit left (or the method takes none). */
  receive(message: unknown, bytes: number): boolean {
    return this.inbox?.push(message, bytes) ?? false;
  }

  /** The client sends no more (END). */
  endOfRequests(): void {
    this.inbox?.end();
  }

  /** A CREDIT from the client. */
  grantFromPeer(count: number): void {
    this.credit.grant(count);
  }

  /** @internal The request context was cancelled (caller, deadline, limit, drain): stop both directions. */
  cancelFromParent(error: RpcError): void {
    this.credit.close(error);
    this.inbox?.fail(error);
  }

  /** @internal InboxOwner */
  grant(count: number): void {
    this.host.writeCredit(count);
  }

  /** @internal InboxOwner: the handler stopped reading requests; the client is held by its credit. */
  abandon(): void {}

  private async pump(output: unknown, path: string): Promise<void> {
    if (!isAsyncIterable(output)) {
      throw new RpcError(
        Status.INTERNAL,
        `${path}: the handler of a streaming method must be an async generator function (async function*), and a server interceptor around it must resolve with what next() gave or a wrapper of it`,
        {
          reason: Reason.BadHandler,
        },
      );
    }
    const iterator = output[Symbol.asyncIterator]();
    const credit = this.credit;
    const host = this.host;
    let finished = false;
    try {
      for (;;) {
        if (credit.available <= 0 || credit.closed) await credit.wait();
        const writable = host.whenWritable();
        if (writable !== null) await writable;
        const step = await iterator.next();
        if (step.done === true) {
          finished = true;
          return;
        }
        // Cancelled while the generator ran: its message has nowhere to go.
        if (credit.closed) await credit.wait();
        credit.available -= host.writeMessage(step.value);
      }
    } finally {
      // Closes a generator parked at its yield: its finally blocks run before the stream ends.
      if (!finished) await iterator.return?.(undefined);
    }
  }
}
