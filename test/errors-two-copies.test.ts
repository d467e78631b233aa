import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RpcError, Status } from 'corpc';
import { rejection, serve } from './helpers/servers.ts';
import { scopedTest } from './helpers/scope.ts';

// A project can end up with two copies of corpc (an ES module and a CommonJS transform of it, or
// two installed versions): the runtime's server from one, the user's handlers and generated
// decoders from the other. A second copy of framework/ (inside the repository, so that its
// dependencies resolve) stands in for that here.
const copyRoot = join(process.cwd(), '.scratch', `two-copies-${process.pid}`);
mkdirSync(copyRoot, { recursive: true });
cpSync(join(process.cwd(), 'framework'), join(copyRoot, 'framework'), { recursive: true });
const other = (await import(pathToFileURL(join(copyRoot, 'framework', 'index.ts')).href)) as typeof import('corpc');
const otherInternal = (await import(
  pathToFileURL(join(copyRoot, 'framework', 'internal.ts')).href
)) as typeof import('corpc/internal');

test.after(() => rmSync(copyRoot, { recursive: true, force: true }));

const { decoder, fail, fields } = otherInternal.validation;
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

scopedTest("a handler's RpcError from another copy of corpc reaches the caller with its status", async (t) => {
  const { target } = await t.serve(Store, {
    async put({ key }) {
      throw new other.RpcError(other.Status.INVALID_ARGUMENT, `key ${key} is reserved`, { reason: 'reserved' });
    },
  });
  const client = t.client(Store, target);
  const error = await rejection(client.put({ key: 'k' }));
  assert.ok(error instanceof RpcError);
  assert.ok(error instanceof other.RpcError);
  assert.is((error as RpcError).status, Status.INVALID_ARGUMENT);
  assert.is((error as RpcError).reason, 'reserved');
});

scopedTest("a body that fails another copy's generated decoder is answered naming the field", async (t) => {
  const { server, target } = await serve(Store, { put: async (request) => request });
  const channel = other.createChannel(target);
  t.defer(() => server.close());
  t.defer(() => channel.destroy());
  const error = await rejection(channel.call('Store/put', { key: 5 }));
  assert.is((error as RpcError).status, Status.INVALID_ARGUMENT);
  assert.is((error as RpcError).reason, 'invalid_request');
  assert.match((error as RpcError).message, /field "key" must be a string, got 5/);
});

test('instanceof a subclass still means that subclass', () => {
  class Special extends RpcError {}
  assert.not.ok(new RpcError(Status.INTERNAL, 'x') instanceof Special);
  assert.ok(new Special(Status.INTERNAL, 'x') instanceof RpcError);
  assert.not.ok(new Error('x') instanceof RpcError);
  assert.not.ok((null as unknown as object) instanceof RpcError);
});

test.run();
