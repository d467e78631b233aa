/**
 * Interceptors around streams, over real sockets: on both sides they see a stream's open (and may
 * refuse it), each message each way (by wrapping `call.request` and what `next()` gives), and the
 * end with its outcome; they run in the request context; cancelling goes through them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  RpcError,
  Status,
  bidiStream,
  clientStream,
  context,
  createChannel,
  createClient,
  createServer,
  defineService,
  serverStream,
  withContext,
  type ClientInterceptor,
  type ServerInterceptor,
} from 'corpc';
import { delay, rejection } from './helpers/servers.ts';

const Stream = defineService('Stream', {
  count: serverStream<{ upTo: number }, { n: number }>(),
  sum: clientStream<{ n: number }, { total: number }>(),
  double: bidiStream<{ n: number }, { n: number }>(),
});

/** Passes `messages` on, noting each one and how the stream ended (`end`, the status code, or `stopped` if the reader left). */
async function* noted(log: string[], side: string, messages: AsyncIterable<unknown>): AsyncGenerator<unknown> {
  let ended = false;
  try {
    for await (const message of messages) {
      log.push(`${side} ${JSON.stringify(message)}`);
      yield message;
    }
    ended = true;
    log.push(`${side} end`);
  } catch (error) {
    ended = true;
    log.push(`${side} ${(error as RpcError).code}`);
    throw error;
  } finally {
    if (!ended) log.push(`${side} stopped`);
  }
}

/** An interceptor (either side) that notes the open, each request and response, and the end. */
function noting<I extends ClientInterceptor | ServerInterceptor>(log: string[], name: string): I {
  return (async (call: Parameters<I>[0], next: () => Promise<unknown>) => {
    log.push(`${name} open ${call.kind}`);
    if (call.kind === 'client-stream' || call.kind === 'bidi-stream') {
      call.request = noted(log, `${name} request`, call.request as AsyncIterable<unknown>);
    }
    const result = await next();
    if (call.kind === 'server-stream' || call.kind === 'bidi-stream')
      return noted(log, `${name} response`, result as AsyncIterable<unknown>);
    log.push(`${name} reply ${JSON.stringify(result)}`);
    return result;
  }) as I;
}

function streamHandlers(started: { count: number }, metadataSeen?: string[]) {
  return {
    async *count({ upTo }: { upTo: number }) {
      started.count++;
      metadataSeen?.push(context().metadata.token ?? '-');
      for (let n = 1; n <= upTo; n++) yield { n };
    },
    async sum(requests: AsyncIterable<{ n: number }>) {
      started.count++;
      let total = 0;
      for await (const { n } of requests) total += n;
      return { total };
    },
    async *double(requests: AsyncIterable<{ n: number }>) {
      started.count++;
      for await (const { n } of requests) {
        if (n < 0) throw new RpcError(Status.INVALID_ARGUMENT, 'negative', { reason: 'negative' });
        yield { n: 2 * n };
      }
    },
  };
}

test('server interceptors see a stream’s open, each message both ways and its end, in its context; they may refuse it', async () => {
  const log: string[] = [];
  const started = { count: 0 };
  const auth: ServerInterceptor = (_call, next) => {
    if (context().metadata.token !== 'ok')
      throw new RpcError(Status.UNAUTHENTICATED, 'no token', { reason: 'no_token' });
    return next();
  };
  const server = createServer({ interceptors: [noting(log, 'server'), auth] }).addService(
    Stream,
    streamHandlers(started),
  );
  const { port } = await server.listen({ port: 0 });
  const client = createClient(Stream, `127.0.0.1:${port}`);
  try {
    const refused = await rejection(
      (async () => {
        for await (const _ of client.count({ upTo: 3 })) assert.unreachable('a refused stream yields nothing');
      })(),
    );
    assert.is((refused as RpcError).reason, 'no_token');
    assert.is(((await rejection(client.sum([{ n: 1 }]))) as RpcError).code, 'UNAUTHENTICATED');
    assert.is(started.count, 0, 'no handler ran for a refused stream');
    assert.equal(log, ['server open server-stream', 'server open client-stream']);
    log.length = 0;

    await withContext({ metadata: { token: 'ok' } }, async () => {
      const got: number[] = [];
      for await (const { n } of client.count({ upTo: 2 })) got.push(n);
      assert.equal(got, [1, 2]);
      assert.equal(await client.sum([{ n: 2 }, { n: 5 }]), { total: 7 });
      const chat = client.double();
      await chat.send({ n: 3 });
      const replies = chat[Symbol.asyncIterator]();
      assert.equal((await replies.next()).value, { n: 6 });
      await chat.send({ n: -1 });
      const failed = await rejection(replies.next());
      assert.is((failed as RpcError).reason, 'negative');
    });
    assert.equal(log, [
      'server open server-stream',
      'server response {"n":1}',
      'server response {"n":2}',
      'server response end',
      'server open client-stream',
      'server request {"n":2}',
      'server request {"n":5}',
      'server request end',
      'server reply {"total":7}',
      'server open bidi-stream',
      'server request {"n":3}',
      'server response {"n":6}',
      'server request {"n":-1}',
      'server request stopped',
      'server response INVALID_ARGUMENT',
    ]);
  } finally {
    client.destroy();
    await server.close();
  }
});

test('client interceptors see a stream’s open, each message both ways and its end; a shared channel’s client runs its own first', async () => {
  const log: string[] = [];
  const metadataSeen: string[] = [];
  const server = createServer().addService(Stream, streamHandlers({ count: 0 }, metadataSeen));
  const { port } = await server.listen({ port: 0 });
  const addToken: ClientInterceptor = (call, next) => {
    call.metadata.token = 'ok';
    return next();
  };
  const channel = createChannel(`127.0.0.1:${port}`, { interceptors: [noting(log, 'channel'), addToken] });
  const client = createClient(Stream, channel, { interceptors: [noting(log, 'client')] });
  try {
    const got: number[] = [];
    for await (const { n } of client.count({ upTo: 2 })) got.push(n);
    assert.equal(got, [1, 2]);
    assert.equal(metadataSeen, ['ok'], 'what an interceptor added to the metadata reached the handler');
    assert.equal(await client.sum([{ n: 1 }, { n: 4 }]), { total: 5 });
    const chat = client.double();
    const replies: number[] = [];
    const reading = (async () => {
      for await (const { n } of chat) replies.push(n);
    })();
    await chat.send({ n: 1 });
    await chat.send({ n: 2 });
    chat.end();
    await reading;
    assert.equal(replies, [2, 4]);
    assert.is(((await rejection(chat.send({ n: 3 }))) as RpcError).reason, 'stream_closed');
    assert.equal(log.slice(0, log.indexOf('channel open bidi-stream') + 1), [
      'client open server-stream',
      'channel open server-stream',
      'channel response {"n":1}',
      'client response {"n":1}',
      'channel response {"n":2}',
      'client response {"n":2}',
      'channel response end',
      'client response end',
      'client open client-stream',
      'channel open client-stream',
      'client request {"n":1}',
      'channel request {"n":1}',
      'client request {"n":4}',
      'channel request {"n":4}',
      'client request end',
      'channel request end',
      'channel reply {"total":5}',
      'client reply {"total":5}',
      'client open bidi-stream',
      'channel open bidi-stream',
    ]);
    // Of the bidirectional stream, each direction in order (how they interleave is the network's).
    const bidi = log.slice(log.indexOf('channel open bidi-stream') + 1);
    assert.equal(
      bidi.filter((line) => line.includes('request')),
      [
        'client request {"n":1}',
        'channel request {"n":1}',
        'client request {"n":2}',
        'channel request {"n":2}',
        'client request end',
        'channel request end',
      ],
    );
    assert.equal(
      bidi.filter((line) => line.includes('response')),
      [
        'channel response {"n":2}',
        'client response {"n":2}',
        'channel response {"n":4}',
        'client response {"n":4}',
        'channel response end',
        'client response end',
      ],
    );
  } finally {
    client.destroy();
    await server.close();
  }
});

test('through client interceptors: a refusal opens nothing, a handler’s error and a cancel reach both ends, a bad result is named', async () => {
  const started = { count: 0 };
  let handlerStopped: Promise<void> = Promise.resolve();
  const server = createServer().addService(Stream, {
    ...streamHandlers(started),
    count({ upTo }: { upTo: number }) {
      started.count++;
      let resolve = (): void => undefined;
      handlerStopped = new Promise((done) => {
        resolve = done;
      });
      return (async function* () {
        try {
          for (let n = 1; n <= upTo; n++) {
            yield { n };
            await delay(5);
          }
        } finally {
          resolve();
        }
      })();
    },
  });
  const { port } = await server.listen({ port: 0 });
  const log: string[] = [];
  let refuse = false;
  let badResult = false;
  const gate: ClientInterceptor = async (_call, next) => {
    if (refuse) throw new RpcError(Status.PERMISSION_DENIED, 'not from here', { reason: 'refused' });
    const result = await next();
    return badResult ? { not: 'a stream' } : result;
  };
  const client = createClient(Stream, `127.0.0.1:${port}`, { interceptors: [gate, noting(log, 'client')] });
  try {
    refuse = true;
    const refused = await rejection(
      (async () => {
        for await (const _ of client.count({ upTo: 3 })) assert.unreachable('nothing is read from a refused stream');
      })(),
    );
    assert.is((refused as RpcError).reason, 'refused');
    const chat = client.double();
    assert.is(((await rejection(chat.send({ n: 1 }))) as RpcError).reason, 'refused', 'a send gets the refusal');
    assert.is(started.count, 0, 'a refused stream never reached the server');
    refuse = false;

    badResult = true;
    const bad = await rejection(
      (async () => {
        for await (const _ of client.count({ upTo: 3 })) assert.unreachable('not a stream');
      })(),
    );
    assert.is((bad as RpcError).reason, 'bad_interceptor');
    assert.match((bad as RpcError).message, /AsyncIterable/);
    badResult = false;
    await handlerStopped;
    log.length = 0;

    // Leaving the loop early goes through the wrappers to the server: its handler's finally runs.
    for await (const { n } of client.count({ upTo: 1000 })) if (n === 2) break;
    await handlerStopped;
    assert.equal(log.slice(-1), ['client response stopped']);

    // cancel() on the caller's stream ends the server's loop as well; the reader gets CANCELLED.
    log.length = 0;
    const counting = client.count({ upTo: 1000 });
    const reader = counting[Symbol.asyncIterator]();
    assert.equal((await reader.next()).value, { n: 1 });
    counting.cancel();
    await handlerStopped;
    const cancelled = await rejection(
      (async () => {
        for (;;) if ((await reader.next()).done === true) return;
      })(),
    );
    assert.is((cancelled as RpcError).code, 'CANCELLED');
    assert.equal(log.slice(-1), ['client response CANCELLED']);

    // A handler's error ends the wrappers' loops and the caller's with its status.
    const failing = client.double();
    await failing.send({ n: -1 });
    const failed = await rejection(
      (async () => {
        for await (const _ of failing) assert.unreachable('the handler failed at once');
      })(),
    );
    assert.is((failed as RpcError).reason, 'negative');
    assert.ok(log.includes('client response INVALID_ARGUMENT'), log.join(', '));
  } finally {
    client.destroy();
    await server.close();
  }
});

test.run();
