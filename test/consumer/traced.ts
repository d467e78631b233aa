// corpc/opentelemetry in a user's project (the consumer test copies this in once @opentelemetry/api is installed).
import { createClient, createServer } from 'corpc';
import { openTelemetry } from 'corpc/opentelemetry';
import { KeyValue } from './generated/kv.ts';

const tracing = openTelemetry();
const server = createServer({ interceptors: [tracing.server] }).addService(KeyValue, {
  get: async ({ key }) => ({ value: `value of ${key}`, version: 1 }),
  put: async () => ({ version: 1 }),
});
const { port } = await server.listen({ port: 0 });
const kv = createClient(KeyValue, `127.0.0.1:${port}`, { interceptors: [tracing.client] });
const got = await kv.get({ key: 'k' });
await kv.close();
await server.close();
console.log(JSON.stringify(got));
