/** What clients get back from streaming methods (docs/streaming.md). */

/** `client.watch(request)`: the server's messages in order; the loop throws the stream's RpcError if it fails. */
export interface ResponseStream<T> extends AsyncIterable<T> {
  /** Ends the stream now (CANCELLED): the server's handler is cancelled. Leaving a `for await` does the same. */
  cancel(): void;
}

/** `client.chat()`: send and receive at once. */
export interface BidiStream<Send, Receive> extends ResponseStream<Receive> {
  /**
   * Sends one message. Resolves once it is written within the server's credit: await it, and a
   * sender never runs ahead of a slow server. Rejects with the stream's error once it has ended.
   */
  send(message: Send): Promise<void>;
  /** This side sends no more messages (the server's loop over its requests ends). */
  end(): void;
}

/** Whether `value` can be read with `for await` as a stream of messages (an async generator, an inbox…). */
export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  );
}
