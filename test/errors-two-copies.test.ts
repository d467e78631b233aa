import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RpcError, Status, createClient } from 'corpc';
import { rejection, serve } from './helpers/servers.ts';

// A project can end up with two copies of corpc (an ES module and a CommonJS transform of it, or
// two installed versions): the runtime's server from one, the user's handlers and generated
// decoders from the other. A second copy of framework/ (inside the repository, so that its
// dependencies resolve) stands in for that here.
const copyRoot = join(process.cwd(), '.scratch', `two-copies-${process.pid}`);
mkdirSync(copyRoot, { recursive: true });
cpSync(join(process.cwd(), 'framework'), join(copyRoot, 'framework'), { recursive: true });
const other = (await import(pathToFileURL(join(copyRoot, 'framework', 'index.ts')).href)) as typeof import('corpc');

test.after(() => rmSync(copyRoot, { recursive: true, force: true }));

const { decoder, fail, fields } = other.validation;
const Store = other.defineService('Store', {
  put: other.method<{ key: string }, { key: string }>({
    decodeRequest: decoder('Store/put', 'request', (value) => {
      const key = fields(value).key ?? '';
      return { key: typeof key === 'string' ? key : fail('key', 'a string', key) };
    }),
  }),
});

test('the other copy is really another copy', () => {
  assert.is.not(other.RpcError, RpcError);
});

test("a handler's RpcError from another copy of corpc reaches the caller with its status", async () => {
  const { server, target } = await serve(Store, {
    async put({ key }) {
      throw new other.RpcError(other.Status.INVALID_ARGUMENT, `key ${key} is reserved`, { reason: 'reserved' });
    },
  });
  const client = createClient(Store, target);
  try {
    const error = await rejection(client.put({ key: 'k' }));
    assert.ok(error instanceof RpcError);
    assert.ok(error instanceof other.RpcError);
    assert.is((error as RpcError).status, Status.INVALID_ARGUMENT);
    assert.is((error as RpcError).reason, 'reserved');
  } finally {
    await client.close();
    await server.close();
  }
});

test("a body that fails another copy's generated decoder is answered naming the field", async () => {
  const { server, target } = await serve(Store, { put: async (request) => request });
  const channel = other.createChannel(target);
  try {
    const error = await rejection(channel.call('Store/put', { key: 5 }));
    assert.is((error as RpcError).status, Status.INVALID_ARGUMENT);
    assert.is((error as RpcError).reason, 'invalid_request');
    assert.match((error as RpcError).message, /field "key" must be a string, got 5/);
  } finally {
    channel.destroy();
    await server.close();
  }
});

test('instanceof a subclass still means that subclass', () => {
  class Special extends RpcError {}
  assert.not.ok(new RpcError(Status.INTERNAL, 'x') instanceof Special);
  assert.ok(new Special(Status.INTERNAL, 'x') instanceof RpcError);
  assert.not.ok(new Error('x') instanceof RpcError);
  assert.not.ok((null as unknown as object) instanceof RpcError);
});

test.run();
