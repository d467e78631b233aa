/** Calls an Echo server once and prints the answer: `call.ts <host:port> <echo|inspect|relay> [text]`. */
import { RpcError, createClient } from 'corpc';
import { Echo } from './echo.ts';

const [target, methodName = 'echo', text = 'hello'] = process.argv.slice(2);
if (target === undefined || !['echo', 'inspect', 'relay'].includes(methodName)) {
  console.error('usage: call.ts <host:port> <echo|inspect|relay> [text]');
  process.exit(2);
}
const client = createClient(Echo, target, { timeoutMs: 2000 });
try {
  const reply =
    methodName === 'inspect' ? await client.inspect({}) : await client[methodName as 'echo' | 'relay']({ text });
  console.log(JSON.stringify(reply, null, 2));
} catch (error) {
  console.error(error instanceof RpcError ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
} finally {
  await client.close();
}
