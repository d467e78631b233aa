import { once } from 'node:events';
import { createServer, type Http2Server } from 'node:http2';
import { createFileRegistry, type DescService } from '@bufbuild/protobuf';
import {
  FileDescriptorProtoSchema,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
} from '@bufbuild/protobuf/wkt';
import { create } from '@bufbuild/protobuf';
import { createClient, type Client, type ConnectRouter, type Transport } from '@connectrpc/connect';
import { connectNodeAdapter, createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { PAYLOAD, type EchoSystem, type SystemName } from './system.ts';

/**
 * The echo on Connect-ES (@connectrpc/connect-node, @bufbuild/protobuf v2), server and client as
 * its documentation shows them: `connectNodeAdapter` on a `node:http2` server, and a client on
 * `createConnectTransport({ httpVersion: '2' })` (the Connect protocol) or `createGrpcTransport`
 * (the gRPC protocol). The service's descriptor is echo.proto written out as a
 * FileDescriptorProto and loaded with `createFileRegistry` at run time, which is what `buf
 * generate` embeds in generated code, without adding the code generator to the project.
 */

const fileProto = create(FileDescriptorProtoSchema, {
  name: 'echo.proto',
  package: 'bench',
  syntax: 'proto3',
  messageType: ['EchoRequest', 'EchoReply'].map((name) => ({
    name,
    field: [
      {
        name: 'text',
        jsonName: 'text',
        number: 1,
        label: FieldDescriptorProto_Label.OPTIONAL,
        type: FieldDescriptorProto_Type.STRING,
      },
    ],
  })),
  service: [
    { name: 'Echo', method: [{ name: 'Echo', inputType: '.bench.EchoRequest', outputType: '.bench.EchoReply' }] },
  ],
});
const EchoService = createFileRegistry(fileProto, () => undefined).getService('bench.Echo') as DescService;

function connectSystem(name: SystemName, transport: (baseUrl: string) => Transport): EchoSystem {
  return {
    name,
    async serve() {
      const routes = (router: ConnectRouter): void => {
        router.service(EchoService, { echo: (request: { text: string }) => ({ text: request.text }) } as never);
      };
      const server: Http2Server = createServer(connectNodeAdapter({ routes }));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error(`${name}: no TCP address`);
      return { port: address.port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    },
    async connect(target, connections) {
      // One transport per connection: each keeps one HTTP/2 session.
      const clients: Client<DescService>[] = [];
      for (let i = 0; i < connections; i++) clients.push(createClient(EchoService, transport(`http://${target}`)));
      let next = 0;
      return {
        send: () => {
          const client = clients[next]! as unknown as { echo(request: typeof PAYLOAD): Promise<unknown> };
          next = (next + 1) % clients.length;
          return client.echo(PAYLOAD);
        },
        close: async () => undefined,
      };
    },
  };
}

export const connectEsSystem = connectSystem('connect-es', (baseUrl) =>
  createConnectTransport({ baseUrl, httpVersion: '2' }),
);
export const connectEsGrpcSystem = connectSystem('connect-es-grpc', (baseUrl) => createGrpcTransport({ baseUrl }));
