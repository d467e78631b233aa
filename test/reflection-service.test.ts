import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ReflectionService, RpcError, createClient, createServer } from 'corpc';
import { Echo, echoHandlers } from '../services/echo/echo.ts';
import { rejection, serve } from './helpers/servers.ts';
import { Where } from './helpers/where.ts';

test('reflection is off unless asked for: List is an unknown method', async () => {
  const { server, target } = await serve(Echo, echoHandlers());
  const reflection = createClient(ReflectionService, target);
  try {
    const error = (await rejection(reflection.list({}))) as RpcError;
    assert.instance(error, RpcError);
    assert.is(error.code, 'UNIMPLEMENTED');
  } finally {
    await reflection.close();
    await server.close();
  }
});

test('with reflection: true, List gives every service, its methods with their options, and the schemas generated code carries', async () => {
  const { server, target } = await serve(Echo, echoHandlers(), { reflection: true });
  server.addService(Where, { whoami: () => ({ server: 'x', caller: '' }), sleep: () => ({ server: 'x' }) });
  const reflection = createClient(ReflectionService, target);
  try {
    const { services, types } = await reflection.list({});
    assert.equal(
      services.map((s) => s.name),
      ['corpc.health.v1.Health', 'corpc.reflection.v1.Reflection', 'Echo', 'Where'],
    );
    const echo = services.find((s) => s.name === 'Echo')!;
    assert.equal(
      echo.methods.find((m) => m.key === 'echo'),
      { name: 'echo', key: 'echo', path: 'Echo/echo', requestType: 'EchoRequest', responseType: 'EchoReply' },
    );
    assert.equal(
      types.find((t) => t.name === 'EchoRequest'),
      { kind: 'message', name: 'EchoRequest', fields: [{ name: 'text', number: 1, type: 'string' }] },
    );
    assert.ok(
      types.some((t) => t.name === 'corpc.health.v1.HealthCheckResponse'),
      'the built-in services describe their messages too',
    );
    assert.equal(
      services[0]!.methods.map((m) => [m.name, m.kind]),
      [
        ['Check', undefined],
        ['Watch', 'server-stream'],
      ],
      'a stream says its kind; a unary method says none',
    );
    // A hand-written descriptor lists its methods, without message types.
    assert.equal(
      services.find((s) => s.name === 'Where')!.methods.map((m) => [m.path, m.requestType]),
      [
        ['Where/whoami', ''],
        ['Where/sleep', ''],
      ],
    );
  } finally {
    await reflection.close();
    await server.close();
  }
});

test('the reflection option is checked by name', () => {
  assert.throws(() => createServer({ reflection: 'yes' as unknown as boolean }), /reflection must be a boolean/);
});

test.run();
