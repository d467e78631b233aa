import { Reason, RpcError, Status } from './errors.ts';
import { chain, outgoingCall, type ClientInterceptor, type OutgoingCall } from './interceptors.ts';
import type { MethodDescriptor } from './service.ts';
import { streamClosed, sendAll, type ClientStream } from './streams/client-stream.ts';
import { isAsyncIterable, type BidiStream, type ResponseStream } from './streams/types.ts';
import type { CallOptions, Channel } from './transport/channel.ts';

/**
 * The client side of a streaming method, as a typed client's function: for a server stream, an
 * iterable of the responses; for a client stream, a function of an iterable of requests; for a
 * bidirectional stream, a `BidiStream`. `interceptors` are the client's own; the channel's run
 * after them. With none at all, the function opens the channel's stream directly.
 */
export function streamingMethod(
  channel: Channel,
  method: MethodDescriptor,
  interceptors: readonly ClientInterceptor[],
): unknown {
  const all = [...interceptors, ...channel.interceptors];
  const open: OpenStream = (descriptor, request, options) => channel.openStream(descriptor, request, options);
  switch (method.kind) {
    case 'server-stream':
      return all.length === 0
        ? (request: unknown, options?: CallOptions): ResponseStream<unknown> => open(method, request, options)
        : (request: unknown, options?: CallOptions): ResponseStream<unknown> =>
            new InterceptedStream(all, outgoingCall(method, channel.target, request, options), open, null);
    case 'client-stream':
      return all.length === 0
        ? (requests: AsyncIterable<unknown> | Iterable<unknown>, options?: CallOptions): Promise<unknown> => {
            const stream = open(method, undefined, options);
            void sendAll(stream, requests);
            return stream.reply;
          }
        : (requests: AsyncIterable<unknown> | Iterable<unknown>, options?: CallOptions): Promise<unknown> =>
            clientStreamThrough(all, outgoingCall(method, channel.target, requests, options), open);
    case 'bidi-stream':
      return all.length === 0
        ? (options?: CallOptions): BidiStream<unknown, unknown> => open(method, undefined, options)
        : (options?: CallOptions): BidiStream<unknown, unknown> => {
            const outbox = new Outbox(method.path);
            return new InterceptedStream(all, outgoingCall(method, channel.target, outbox, options), open, outbox);
          };
    default:
      throw new TypeError(`${method.path} is not a streaming method`);
  }
}

/** How a channel opens a stream, past every interceptor. */
type OpenStream = (method: MethodDescriptor, request: unknown, options: CallOptions | undefined) => ClientStream;

/** A client stream through the interceptors: `call.request` is the requests' iterable; the chain resolves with the reply. */
async function clientStreamThrough(
  interceptors: readonly ClientInterceptor[],
  call: OutgoingCall,
  open: OpenStream,
): Promise<unknown> {
  const run = chain<OutgoingCall>(interceptors, (call) => {
    const stream = open(call.method, undefined, call);
    void sendAll(stream, call.request as AsyncIterable<unknown> | Iterable<unknown>);
    return stream.reply;
  });
  try {
    return await run(call);
  } catch (error) {
    throw RpcError.from(error, call.method.path);
  }
}

/**
 * A server or bidirectional stream through the interceptors. The chain runs at the call (as a
 * unary call starts at once); its end opens the stream and resolves with it, and what the chain
 * resolves with — the stream, or an interceptor's wrapper of it — is what the caller's loop reads.
 * The chain is built per stream: an open is rare next to the messages that follow it.
 */
class InterceptedStream implements BidiStream<unknown, unknown> {
  /** The stream the chain's end opened (the latest, if an interceptor called `next()` again). */
  private opened: ClientStream | null = null;
  private cancelled = false;
  private reader: AsyncIterator<unknown> | null = null;
  private readonly responses: Promise<unknown>;
  private readonly path: string;

  constructor(
    interceptors: readonly ClientInterceptor[],
    call: OutgoingCall,
    private readonly open: OpenStream,
    /** A bidirectional stream's requests, which `send()` feeds; null for a server stream. */
    private readonly outbox: Outbox | null,
  ) {
    this.path = call.method.path;
    const run = chain<OutgoingCall>(interceptors, (call) => Promise.resolve(this.openStream(call)));
    try {
      this.responses = run(call);
    } catch (error) {
      this.responses = Promise.reject(error);
    }
    // Whoever reads sees the outcome; a send waiting on a chain that failed gets it too.
    this.responses.catch((error: unknown) => outbox?.close(RpcError.from(error, call.method.path)));
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    this.reader ??= this.read();
    return this.reader;
  }

  send(message: unknown): Promise<void> {
    if (this.outbox === null) return Promise.reject(new TypeError('send() on a server stream'));
    return this.outbox.push(message);
  }

  end(): void {
    this.outbox?.end();
  }

  cancel(): void {
    this.cancelled = true;
    this.opened?.cancel();
  }

  private openStream(call: OutgoingCall): ClientStream {
    const outbox = this.outbox;
    const stream = this.open(call.method, outbox === null ? call.request : undefined, call);
    this.opened = stream;
    if (this.cancelled) stream.cancel();
    if (outbox !== null) {
      void sendAll(stream, call.request as AsyncIterable<unknown>);
      stream.reply.then(
        () => outbox.close(null),
        (error: RpcError) => outbox.close(error),
      );
    }
    return stream;
  }

  private async *read(): AsyncGenerator<unknown> {
    const path = this.path;
    try {
      const responses = await this.responses;
      if (!isAsyncIterable(responses)) {
        throw new RpcError(
          Status.INTERNAL,
          `${path}: a client interceptor of a streaming method must resolve with an AsyncIterable of the responses (what next() gave, or a wrapper of it)`,
          { reason: Reason.BadInterceptor },
        );
      }
      yield* responses;
    } catch (error) {
      throw RpcError.from(error, path);
    } finally {
      this.outbox?.close(null);
    }
  }
}

interface QueuedSend {
  readonly message: unknown;
  readonly resolve: () => void;
  readonly reject: (error: RpcError) => void;
}

const TAKEN = Promise.resolve();

/**
 * What a bidirectional stream's caller sends, as the AsyncIterable its interceptors see (and may
 * wrap). `push()` resolves once the stream takes the message, which it does only after the
 * previous one went out within the server's credit: a sender that awaits its sends stays at most
 * one message ahead of the server, as without interceptors it stays within the credit.
 */
class Outbox implements AsyncIterableIterator<unknown> {
  private readonly queued: QueuedSend[] = [];
  private waiting: ((step: IteratorResult<unknown>) => void) | null = null;
  private ended = false;
  /** Set once the stream has its outcome: why sends are refused from then on. */
  private closedWith: RpcError | null = null;

  constructor(private readonly path: string) {}

  push(message: unknown): Promise<void> {
    if (this.closedWith !== null) return Promise.reject(this.closedWith);
    if (this.ended) return Promise.reject(streamClosed(this.path, 'send() after end()'));
    if (this.waiting !== null) {
      const taker = this.waiting;
      this.waiting = null;
      taker({ value: message, done: false });
      return TAKEN;
    }
    return new Promise((resolve, reject) => this.queued.push({ message, resolve, reject }));
  }

  end(): void {
    this.ended = true;
    if (this.queued.length === 0) this.finishTaker();
  }

  /** The stream ended (`error` null) or failed: the sends not taken are refused with why. */
  close(error: RpcError | null): void {
    if (this.closedWith !== null) return;
    this.closedWith = error ?? streamClosed(this.path, 'send() after the stream ended');
    for (const send of this.queued.splice(0)) send.reject(this.closedWith);
    this.finishTaker();
  }

  next(): Promise<IteratorResult<unknown>> {
    const send = this.queued.shift();
    if (send !== undefined) {
      send.resolve();
      return Promise.resolve({ value: send.message, done: false });
    }
    if (this.ended || this.closedWith !== null) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** The stream stopped taking requests (it failed, or an interceptor's wrapper stopped): sends wait for its outcome. */
  return(): Promise<IteratorResult<unknown>> {
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<unknown> {
    return this;
  }

  private finishTaker(): void {
    const taker = this.waiting;
    this.waiting = null;
    taker?.({ value: undefined, done: true });
  }
}
