import { once } from 'node:events';
import { connect, constants, createServer, type ClientHttp2Session } from 'node:http2';
import { PAYLOAD, type EchoSystem } from './system.ts';

/**
 * The echo on plain `node:http2`, no framework: a POST of the JSON body, answered with it. The
 * floor of any HTTP/2 framework in Node (Connect-ES, grpc-js): one stream per call, headers both
 * ways, JSON.
 */

const { HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_CONTENT_TYPE, HTTP2_HEADER_STATUS } = constants;
const BODY = JSON.stringify(PAYLOAD);

export const http2System: EchoSystem = {
  name: 'node-http2',
  async serve() {
    const server = createServer();
    server.on('stream', (stream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const { text } = JSON.parse(Buffer.concat(chunks).toString()) as { text: string };
        stream.respond({ [HTTP2_HEADER_STATUS]: 200, [HTTP2_HEADER_CONTENT_TYPE]: 'application/json' });
        stream.end(JSON.stringify({ text }));
      });
      stream.on('error', () => undefined);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('node-http2: no TCP address');
    return { port: address.port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  },
  async connect(target, connections) {
    const sessions: ClientHttp2Session[] = [];
    for (let i = 0; i < connections; i++) {
      const session = connect(`http://${target}`);
      await once(session, 'connect');
      sessions.push(session);
    }
    let next = 0;
    return {
      send: () =>
        new Promise((resolve, reject) => {
          const session = sessions[next]!;
          next = (next + 1) % sessions.length;
          const stream = session.request({
            [HTTP2_HEADER_METHOD]: 'POST',
            [HTTP2_HEADER_PATH]: '/echo',
            [HTTP2_HEADER_CONTENT_TYPE]: 'application/json',
          });
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
          stream.on('error', reject);
          stream.end(BODY);
        }),
      close: async () => {
        for (const session of sessions) session.close();
      },
    };
  },
};
