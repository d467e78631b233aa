import { createClient, createServer } from 'corpc';
import { Echo, echoHandlers } from '../../services/echo/echo.ts';
import { PAYLOAD, type EchoSystem } from './system.ts';

/** corpc with everything on: context, deadlines through the shared wheel, fastq handler queue. */
export const corpcSystem: EchoSystem = {
  name: 'corpc',
  async serve() {
    const server = createServer().addService(Echo, echoHandlers());
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    return { port, close: () => server.close(1000) };
  },
  async connect(target, connections) {
    const client = createClient(Echo, target, { connectionsPerEndpoint: connections, timeoutMs: 10_000 });
    return { send: (options) => client.echo(PAYLOAD, options), close: () => client.close() };
  },
};
