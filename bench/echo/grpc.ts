import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PAYLOAD, type EchoSystem } from './system.ts';

/**
 * The same echo on grpc-js (HTTP/2 + protobuf), for scale. Calls carry no deadline (a per-call
 * grpc-js deadline costs a timer each, which would only make it slower); one client per
 * connection, each with its own subchannel, so `--connections` means the same as for corpc.
 */

interface EchoMessage {
  text: string;
}
type EchoCallback = (error: grpc.ServiceError | null, reply?: EchoMessage) => void;
interface EchoClient extends grpc.Client {
  Echo(request: EchoMessage, callback: EchoCallback): grpc.ClientUnaryCall;
}
type EchoClientConstructor = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions,
) => EchoClient;

function loadEcho(): { service: grpc.ServiceDefinition; Client: EchoClientConstructor } {
  const definition = protoLoader.loadSync(fileURLToPath(new URL('./echo.proto', import.meta.url)), { keepCase: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    bench: { Echo: EchoClientConstructor & { service: grpc.ServiceDefinition } };
  };
  return { service: loaded.bench.Echo.service, Client: loaded.bench.Echo };
}

export const grpcSystem: EchoSystem = {
  name: 'grpc-js',
  async serve() {
    const { service } = loadEcho();
    const server = new grpc.Server();
    server.addService(service, {
      Echo: (call: grpc.ServerUnaryCall<EchoMessage, EchoMessage>, callback: grpc.sendUnaryData<EchoMessage>) => {
        callback(null, { text: call.request.text });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error === null ? resolve(bound) : reject(error),
      ),
    );
    return { port, close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) };
  },
  async connect(target, connections) {
    const { Client } = loadEcho();
    const clients: EchoClient[] = [];
    for (let i = 0; i < connections; i++) {
      clients.push(new Client(target, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
    }
    let next = 0;
    return {
      send: () =>
        new Promise((resolve, reject) => {
          const client = clients[next]!;
          next = (next + 1) % clients.length;
          client.Echo(PAYLOAD, (error, reply) => (error === null ? resolve(reply) : reject(error)));
        }),
      close: async () => {
        for (const client of clients) client.close();
      },
    };
  },
};
