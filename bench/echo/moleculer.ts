import { ServiceBroker } from 'moleculer';
import { PAYLOAD, type EchoSystem } from './system.ts';

/**
 * The echo on Moleculer with its TCP transporter (gossip over TCP, JSON serializer, the
 * defaults), as its documentation shows: a server broker with an `echo` service, and a client
 * broker that calls `echo.echo`. UDP discovery is off (loopback, two known nodes): the client
 * is given the server's address, `127.0.0.1:<port>/<nodeID>`, as the docs' static `urls`.
 */

const SERVER_NODE = 'bench-echo-server';

function broker(nodeID: string, options: Record<string, unknown>): ServiceBroker {
  return new ServiceBroker({
    nodeID,
    logger: false,
    transporter: { type: 'TCP', options: { udpDiscovery: false, ...options } },
  });
}

export const moleculerSystem: EchoSystem = {
  name: 'moleculer',
  async serve() {
    const server = broker(SERVER_NODE, { port: 0 });
    server.createService({
      name: 'echo',
      actions: { echo: (ctx: { params: { text: string } }) => ({ text: ctx.params.text }) },
    });
    await server.start();
    // The port the transporter opened (0 asks for a free one).
    const port = (server.transit as unknown as { tx: { opts: { port: number } } }).tx.opts.port;
    return { port, close: () => server.stop() };
  },
  async connect(target, connections) {
    if (connections !== 1) throw new Error('moleculer: one connection per node pair (the TCP transporter keeps one)');
    const client = broker(`bench-echo-client-${process.pid}`, { urls: [`${target}/${SERVER_NODE}`] });
    await client.start();
    await client.waitForServices('echo');
    return { send: () => client.call('echo.echo', PAYLOAD), close: () => client.stop() };
  },
};
