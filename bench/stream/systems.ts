import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createClient, createServer, defineService, method, serverStream } from 'corpc';

/**
 * The server stream of `npm run bench -- stream` on corpc and on grpc-js: the server sends
 * `size`-byte payloads as fast as the caller's flow control lets it, until the caller leaves.
 */

export type StreamSystemName = 'corpc' | 'grpc-js';

interface Event {
  payload: Uint8Array;
}

export const Feed = defineService('Feed', {
  watch: serverStream<{ size: number }, Event>(),
  memory: method<Record<string, never>, { rss: number; heapUsed: number }>(),
});

export interface StreamServer {
  port: number;
  close(): Promise<void>;
}

export interface StreamClient {
  /** Opens one stream; `onMessage` gets each payload's length; resolves when `stop()` has ended it. */
  watch(size: number, onMessage: (bytes: number) => void | Promise<void>): { done: Promise<void>; stop(): void };
  close(): Promise<void>;
}

export async function serve(system: StreamSystemName): Promise<StreamServer> {
  if (system === 'corpc') {
    // 128 streams share one connection here, above the default limit of 100. Admission is off:
    // streams that saturate the loop would otherwise (rightly) shed the ones opened after them,
    // and grpc-js admits everything.
    const server = createServer({ maxStreamsPerConnection: 256, admission: { policy: 'none' } }).addService(Feed, {
      async *watch({ size }) {
        const event = { payload: Buffer.alloc(size, 7) };
        for (;;) yield event;
      },
      memory() {
        global.gc?.();
        const { rss, heapUsed } = process.memoryUsage();
        return { rss, heapUsed };
      },
    });
    const { port } = await server.listen({ port: 0 });
    return { port, close: () => server.close(0) };
  }
  const { service } = loadFeed();
  const server = new grpc.Server();
  server.addService(service, {
    Watch: async (call: grpc.ServerWritableStream<{ size: number }, Event>) => {
      const event = { payload: Buffer.alloc(call.request.size, 7) };
      let cancelled = false;
      // One listener for the whole stream: a `once(call, 'cancelled')` per full buffer would pile
      // up listeners (Node warns past 10) and slow grpc-js down for a cause of the bench's own.
      const cancel = once(call, 'cancelled').then(() => (cancelled = true));
      while (!cancelled) {
        if (!call.write(event)) await Promise.race([once(call, 'drain'), cancel]);
      }
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error === null ? resolve(bound) : reject(error),
    ),
  );
  return { port, close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) };
}

export function connect(system: StreamSystemName, target: string): StreamClient {
  if (system === 'corpc') {
    const client = createClient(Feed, target);
    return {
      watch(size, onMessage) {
        let stopped = false;
        const done = (async () => {
          for await (const event of client.watch({ size }, { timeoutMs: 3_600_000 })) {
            const waiting = onMessage(event.payload.length);
            if (waiting !== undefined) await waiting;
            if (stopped) break;
          }
        })();
        return { done, stop: () => (stopped = true) };
      },
      close: () => client.close(),
    };
  }
  const { Client } = loadFeed();
  const client = new Client(target, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  return {
    watch(size, onMessage) {
      const call = client.Watch({ size });
      const done = new Promise<void>((resolve) => {
        call.on('data', (event: Event) => void onMessage(event.payload.length));
        call.on('error', () => resolve());
        call.on('end', () => resolve());
      });
      return { done, stop: () => call.cancel() };
    },
    close: async () => client.close(),
  };
}

interface FeedClient extends grpc.Client {
  Watch(request: { size: number }): grpc.ClientReadableStream<Event>;
}

function loadFeed(): {
  service: grpc.ServiceDefinition;
  Client: new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => FeedClient;
} {
  const definition = protoLoader.loadSync(fileURLToPath(new URL('./feed.proto', import.meta.url)), { keepCase: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    bench: {
      Feed: (new (
        address: string,
        credentials: grpc.ChannelCredentials,
        options?: grpc.ChannelOptions,
      ) => FeedClient) & { service: grpc.ServiceDefinition };
    };
  };
  return { service: loaded.bench.Feed.service, Client: loaded.bench.Feed };
}
