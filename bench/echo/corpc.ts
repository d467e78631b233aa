import { createClient, createServer, type ClientInterceptor, type ServerInterceptor } from 'corpc';
import { Echo, echoHandlers } from '../../services/echo/echo.ts';
import { PAYLOAD, type EchoSystem } from './system.ts';

/** corpc with everything on: context, deadlines through the shared wheel, fastq handler queue. */
export const corpcSystem: EchoSystem = corpcEcho('corpc', [], []);

const passClient: ClientInterceptor = (_call, next) => next();
const passServer: ServerInterceptor = (_call, next) => next();

/** The same with one no-op interceptor on each side: what an interceptor costs (`echo --interceptor`). */
export const interceptedSystem: EchoSystem = corpcEcho('corpc-intercepted', [passClient], [passServer]);

function corpcEcho(name: EchoSystem['name'], client: ClientInterceptor[], server: ServerInterceptor[]): EchoSystem {
  return {
    name,
    async serve() {
      const running = createServer({ interceptors: server }).addService(Echo, echoHandlers());
      const { port } = await running.listen({ host: '127.0.0.1', port: 0 });
      return { port, close: () => running.close(1000) };
    },
    async connect(target, connections) {
      const echo = createClient(Echo, target, {
        connectionsPerEndpoint: connections,
        timeoutMs: 10_000,
        interceptors: client,
      });
      return { send: (options) => echo.echo(PAYLOAD, options), close: () => echo.close() };
    },
  };
}
