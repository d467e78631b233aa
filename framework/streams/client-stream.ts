import { Reason, RpcError, Status } from '../errors.ts';
import type { MethodKind } from '../service.ts';
import { Credit } from './credit.ts';
import { Inbox } from './inbox.ts';
import type { BidiStream } from './types.ts';

/** What a client-side stream needs from its call (the call knows its connection and stream id). */
export interface ClientStreamHost {
  /** Writes one MESSAGE frame and returns its message's bytes; throws, writing nothing, if it cannot be encoded. */
  writeMessage(value: unknown): number;
  /** Grants the server `count` more message bytes (a CREDIT frame). */
  writeCredit(count: number): void;
  /** Half-closes: an END frame. */
  writeEnd(): void;
  /** Ends the call with `error`, telling the server (CANCEL). */
  cancel(error: RpcError): void;
}

interface PendingSend {
  readonly message: unknown;
  readonly resolve: () => void;
  readonly reject: (error: RpcError) => void;
}

const SENT = Promise.resolve();

/**
 * The client's side of one stream: the server's messages in an inbox (server and bidirectional
 * streams), and what the client sends, held to the credit the server grants. The server grants
 * its first credit when the handler starts: until then (queued for admission, or not even sent
 * yet), `send()` waits and nothing but OPEN is on the wire, which is also why a stream that never
 * got credit nor a message may be retried elsewhere, like a unary call.
 */
// Its inbox holds it as its InboxOwner (checked where it is made); not in the implements clause,
// because the declarations leave those members out.
export class ClientStream implements BidiStream<unknown, unknown> {
  /** Set by the call that carries the stream. */
  host: ClientStreamHost | null = null;
  /** The call's outcome: a client stream's reply; for the others, resolves at the end of the stream. Set by the channel. */
  reply: Promise<unknown> = SENT;
  readonly inbox: Inbox<unknown> | null;
  readonly credit = new Credit();
  /** The server sent a CREDIT or a MESSAGE: it ran the handler, so the stream is never retried. */
  started = false;
  private readonly pending: PendingSend[] = [];
  private endRequested = false;
  private endSent = false;
  private settled = false;
  private failure: RpcError | null = null;

  constructor(
    readonly kind: MethodKind,
    readonly path: string,
    windowBytes: number,
  ) {
    this.inbox = kind === 'server-stream' || kind === 'bidi-stream' ? new Inbox(this, windowBytes) : null;
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    if (this.inbox === null)
      throw new TypeError(`${this.path} is a client stream: its reply is the promise, not an iterable`);
    return this.inbox;
  }

  send(message: unknown): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.endRequested || this.settled) {
      return Promise.reject(
        streamClosed(this.path, this.endRequested ? 'send() after end()' : 'send() after the stream ended'),
      );
    }
    if (this.pending.length === 0 && this.credit.available > 0) {
      try {
        this.write(message);
      } catch (error) {
        return Promise.reject(RpcError.from(error));
      }
      return SENT;
    }
    return new Promise((resolve, reject) => this.pending.push({ message, resolve, reject }));
  }

  end(): void {
    if (this.endRequested || this.settled) return;
    this.endRequested = true;
    this.flush();
  }

  cancel(): void {
    this.host?.cancel(
      new RpcError(Status.CANCELLED, `${this.path}: cancelled by the caller`, { reason: Reason.Cancelled }),
    );
  }

  /** @internal The first window is granted with OPEN. */
  open(): void {
    this.inbox?.open();
  }

  /** @internal A MESSAGE of `bytes` from the server; false when it sent past its credit. */
  receive(message: unknown, bytes: number): boolean {
    this.started = true;
    return this.inbox?.push(message, bytes) ?? false;
  }

  /** @internal A CREDIT from the server. */
  grantFromPeer(count: number): void {
    this.started = true;
    this.credit.grant(count);
    this.flush();
  }

  /** @internal The call has its outcome: the stream ended (null) or failed. */
  settle(error: RpcError | null): void {
    if (this.settled) return;
    this.settled = true;
    this.failure = error;
    const closed = error ?? streamClosed(this.path, 'the stream has ended');
    this.credit.close(closed);
    for (const send of this.pending.splice(0)) send.reject(closed);
    if (error === null) this.inbox?.end();
    else this.inbox?.fail(error);
  }

  /** @internal InboxOwner */
  grant(count: number): void {
    this.host?.writeCredit(count);
  }

  /** @internal InboxOwner: the caller left its `for await` early. */
  abandon(): void {
    this.host?.cancel(
      new RpcError(Status.CANCELLED, `${this.path}: the caller stopped reading the stream`, {
        reason: Reason.Cancelled,
      }),
    );
  }

  private write(message: unknown): void {
    this.credit.available -= this.host!.writeMessage(message);
  }

  private flush(): void {
    const pending = this.pending;
    while (pending.length > 0 && this.credit.available > 0 && !this.settled) {
      const send = pending.shift()!;
      try {
        this.write(send.message);
        send.resolve();
      } catch (error) {
        send.reject(RpcError.from(error));
      }
    }
    if (this.endRequested && !this.endSent && pending.length === 0 && this.started && !this.settled) {
      this.endSent = true;
      this.host!.writeEnd();
    }
  }
}

/** Why a send on a stream that has ended, or that its caller ended, is refused (`what`: "send() after end()"). */
export function streamClosed(path: string, what: string): RpcError {
  return new RpcError(Status.FAILED_PRECONDITION, `${path}: ${what}`, { reason: Reason.StreamClosed });
}

/** Sends every request of `requests`, each within the server's credit, then END; a throw from the iterable cancels the stream. */
export async function sendAll(
  stream: ClientStream,
  requests: AsyncIterable<unknown> | Iterable<unknown>,
): Promise<void> {
  try {
    for await (const request of requests) await stream.send(request);
    stream.end();
  } catch (error) {
    if (error instanceof RpcError && error.reason === Reason.StreamClosed) return;
    stream.host?.cancel(
      error instanceof RpcError
        ? error
        : new RpcError(Status.CANCELLED, `${stream.path}: the requests' iterable threw`, {
            cause: error,
            reason: Reason.Cancelled,
          }),
    );
  }
}
