/**
 * `npm start`: the example services on localhost. Two Echo servers: the front one relays to the
 * back one, to show a request's deadline, priorities and trace id travelling across a hop.
 */
import { createClient, createServer } from 'corpc';
import { Echo, echoHandlers } from './echo/echo.ts';

const host = process.env.CORPC_HOST ?? '127.0.0.1';
const frontPort = Number(process.env.CORPC_PORT ?? 7001);

const back = createServer().addService(Echo, echoHandlers());
const backAddress = await back.listen({ host, port: frontPort + 1 });
const next = createClient(Echo, `${host}:${backAddress.port}`);
const front = createServer().addService(Echo, echoHandlers(next));
const frontAddress = await front.listen({ host, port: frontPort });

console.log(`Echo (front) listening on ${host}:${frontAddress.port}; relays to Echo (back) on ${host}:${backAddress.port}`);
console.log('Call it:');
console.log(`  node --conditions=corpc-source --import tsx services/echo/call.ts ${host}:${frontAddress.port} echo hello`);
console.log(`  node --conditions=corpc-source --import tsx services/echo/call.ts ${host}:${frontAddress.port} relay hello`);
console.log('Ctrl-C stops.');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log('draining…');
    void Promise.all([front.close(2000), next.close(), back.close(2000)]).then(() => process.exit(0));
  });
}
