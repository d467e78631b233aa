// The user's client in the consumer test: `node --import corpc/register src/client.ts <port>`.
import { RpcError, createClient } from 'corpc';
import { KeyValue } from './generated/kv.ts';

const kv = createClient(KeyValue, `127.0.0.1:${process.argv[2]}`);
const put = await kv.put({ key: 'greeting', value: 'hello' });
// A partial request: proto3 fills the fields left out (consistent, minVersion) with defaults.
const got = await kv.get({ key: 'greeting' });
// @ts-expect-error the key is a string
await kv.get({ key: 5 }).catch(() => undefined);
let refused = '';
try {
  await kv.put({ key: '', value: 'x' });
} catch (error) {
  if (error instanceof RpcError) refused = error.code;
}
console.log(JSON.stringify({ put, got, refused }));
await kv.close();
