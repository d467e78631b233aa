import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  InvalidArgumentError,
  RpcError,
  Status,
  context,
  createChannel,
  createClient,
  createServer,
  currentContext,
  defineService,
  method,
  withContext,
  HealthService,
  type ClientInterceptor,
  type ServerInterceptor,
} from 'corpc';
import { Echo, echoHandlers } from '../services/echo/echo.ts';
import { rejection, serve } from './helpers/servers.ts';

const Other = defineService('Other', { ping: method<{ n: number }, { n: number }>() });

/** An interceptor that notes when the call enters and leaves it. */
function noting<I extends ClientInterceptor | ServerInterceptor>(log: string[], name: string): I {
  return (async (_call: unknown, next: () => Promise<unknown>) => {
    log.push(`${name} in`);
    try {
      return await next();
    } finally {
      log.push(`${name} out`);
    }
  }) as I;
}

test('interceptors run in registration order: client, channel, then server, service; unwinding in reverse', async () => {
  const log: string[] = [];
  const server = createServer({ interceptors: [noting(log, 'server 1'), noting(log, 'server 2')] });
  server.addService(
    Echo,
    {
      ...echoHandlers(),
      async echo(request) {
        log.push('handler');
        return { text: request.text };
      },
    },
    { interceptors: [noting(log, 'service')] },
  );
  const { port } = await server.listen({ port: 0 });
  const channel = createChannel(`127.0.0.1:${port}`, {
    interceptors: [noting(log, 'channel 1'), noting(log, 'channel 2')],
  });
  const client = createClient(Echo, channel, { interceptors: [noting(log, 'client')] });
  try {
    assert.equal(await client.echo({ text: 'hi' }), { text: 'hi' });
    assert.equal(log, [
      'client in',
      'channel 1 in',
      'channel 2 in',
      'server 1 in',
      'server 2 in',
      'service in',
      'handler',
      'service out',
      'server 2 out',
      'server 1 out',
      'channel 2 out',
      'channel 1 out',
      'client out',
    ]);
  } finally {
    await channel.close();
    await server.close();
  }
});

test('a service interceptor sees only its service; a server interceptor sees them all', async () => {
  const seen: string[] = [];
  const note =
    (name: string): ServerInterceptor =>
    (call, next) => {
      seen.push(`${name}: ${call.service.name} ${call.method.name}`);
      return next();
    };
  const server = createServer({ interceptors: [note('server')] })
    .addService(Echo, echoHandlers(), { interceptors: [note('echo only')] })
    .addService(Other, { ping: async ({ n }) => ({ n }) });
  const { port } = await server.listen({ port: 0 });
  const echo = createClient(Echo, `127.0.0.1:${port}`);
  const other = createClient(Other, echo.channel);
  try {
    await echo.echo({ text: 'x' });
    await other.ping({ n: 1 });
    assert.equal(seen, ['server: Echo echo', 'echo only: Echo echo', 'server: Other ping']);
  } finally {
    await echo.close();
    await server.close();
  }
});

test('context() works inside interceptors: the request on the server, the caller’s on the client', async () => {
  const observed: Record<string, unknown> = {};
  const server: ServerInterceptor = (call, next) => {
    observed.serverSame = context() === call.context;
    observed.serverTrace = context().traceId;
    observed.serverMethod = context().method;
    return next();
  };
  const client: ClientInterceptor = async (call, next) => {
    observed.clientContext = currentContext()?.traceId;
    observed.clientSame = currentContext() === call.context;
    return next();
  };
  const { server: running, target } = await serve(Echo, echoHandlers(), { interceptors: [server] });
  const echo = createClient(Echo, target, { interceptors: [client] });
  try {
    await withContext({ traceId: 'trace-in-context', timeoutMs: 2000 }, () => echo.echo({ text: 'x' }));
    assert.equal(observed, {
      clientContext: 'trace-in-context',
      clientSame: true,
      serverSame: true,
      serverTrace: 'trace-in-context',
      serverMethod: 'Echo/echo',
    });
    // Outside any request, a client interceptor has no context to see.
    await echo.echo({ text: 'y' });
    assert.is(observed.clientContext, undefined);
  } finally {
    await echo.close();
    await running.close();
  }
});

test('metadata a client interceptor adds reaches the server; a server interceptor checks it (auth) and rejects', async () => {
  let handled = 0;
  const requireToken: ServerInterceptor = (call, next) => {
    if (call.metadata.authorization !== 'Bearer s3cret') {
      throw new RpcError(Status.UNAUTHENTICATED, `${call.method.path}: a valid bearer token is required`, {
        reason: 'bad_token',
      });
    }
    return next();
  };
  const { server, target } = await serve(
    Echo,
    {
      ...echoHandlers(),
      async echo(request) {
        handled++;
        return { text: request.text };
      },
    },
    { interceptors: [requireToken] },
  );
  // Two clients over one channel: only the first adds the token.
  const channel = createChannel(target);
  const withToken = createClient(Echo, channel, {
    interceptors: [
      (call, next) => {
        call.metadata.authorization = 'Bearer s3cret';
        return next();
      },
    ],
  });
  const without = createClient(Echo, channel);
  try {
    const view = await withToken.inspect({}, { metadata: { tenant: 't1' } });
    // The call's own metadata is kept, the interceptor's added to it.
    assert.equal(view.metadata, { tenant: 't1', authorization: 'Bearer s3cret' });
    assert.equal(await withToken.echo({ text: 'ok' }), { text: 'ok' });
    const error = (await rejection(without.echo({ text: 'no' }))) as RpcError;
    assert.instance(error, RpcError);
    assert.is(error.code, 'UNAUTHENTICATED');
    assert.is(error.reason, 'bad_token');
    assert.is(handled, 1);
  } finally {
    await channel.close();
    await server.close();
  }
});

test('a client interceptor that rejects sends nothing; what it throws is the call’s outcome as an RpcError', async () => {
  let arrived = 0;
  const counting: ServerInterceptor = (_call, next) => {
    arrived++;
    return next();
  };
  const { server, target } = await serve(Echo, echoHandlers(), { interceptors: [counting] });
  const refusing = createClient(Echo, target, {
    interceptors: [
      async (call) => {
        throw new RpcError(Status.PERMISSION_DENIED, `${call.method.path}: not from this client`, {
          reason: 'refused',
        });
      },
    ],
  });
  const broken = createClient(Echo, refusing.channel, {
    interceptors: [
      () => {
        throw new Error('a bug in an interceptor');
      },
    ],
  });
  try {
    const refused = (await rejection(refusing.echo({ text: 'x' }))) as RpcError;
    assert.is(refused.code, 'PERMISSION_DENIED');
    assert.is(refused.reason, 'refused');
    const internal = (await rejection(broken.echo({ text: 'x' }))) as RpcError;
    assert.instance(internal, RpcError);
    assert.is(internal.code, 'INTERNAL');
    assert.is((internal.cause as Error).message, 'a bug in an interceptor');
    assert.is(arrived, 0);
  } finally {
    await refusing.close();
    await server.close();
  }
});

test('errors pass through the chains: interceptors see the handler’s RpcError, and a plain Error becomes INTERNAL', async () => {
  const serverSaw: string[] = [];
  const clientSaw: string[] = [];
  const observe: ServerInterceptor = async (_call, next) => {
    try {
      return await next();
    } catch (error) {
      serverSaw.push(error instanceof RpcError ? `${error.code} ${error.reason}` : `plain ${(error as Error).message}`);
      throw error;
    }
  };
  const { server, target } = await serve(
    Echo,
    {
      ...echoHandlers(),
      async echo(request) {
        if (request.text === 'missing') throw new RpcError(Status.NOT_FOUND, 'no such thing', { reason: 'no_thing' });
        throw new Error('handler bug');
      },
    },
    { interceptors: [observe] },
  );
  const client = createClient(Echo, target, {
    interceptors: [
      async (_call, next) => {
        try {
          return await next();
        } catch (error) {
          clientSaw.push(`${(error as RpcError).code} ${(error as RpcError).reason}`);
          throw error;
        }
      },
    ],
  });
  try {
    assert.is(((await rejection(client.echo({ text: 'missing' }))) as RpcError).code, 'NOT_FOUND');
    assert.is(((await rejection(client.echo({ text: 'bug' }))) as RpcError).code, 'INTERNAL');
    assert.equal(serverSaw, ['NOT_FOUND no_thing', 'plain handler bug']);
    assert.equal(clientSaw, ['NOT_FOUND no_thing', 'INTERNAL unhandled']);
  } finally {
    await client.close();
    await server.close();
  }
});

test('a retrying client interceptor calls next() again, each time a new call that reaches the server', async () => {
  let attempts = 0;
  const { server, target } = await serve(Echo, {
    ...echoHandlers(),
    async echo(request) {
      attempts++;
      if (attempts < 3) throw new RpcError(Status.ABORTED, 'conflict, try again', { reason: 'conflict' });
      return { text: `${request.text} after ${attempts}` };
    },
  });
  const retryAborted: ClientInterceptor = async (_call, next) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await next();
      } catch (error) {
        if (!(error instanceof RpcError) || error.status !== Status.ABORTED || attempt === 4) throw error;
      }
    }
  };
  const client = createClient(Echo, target, { interceptors: [retryAborted] });
  try {
    assert.equal(await client.echo({ text: 'done' }), { text: 'done after 3' });
    assert.is(attempts, 3);
    assert.is(client.channel.stats().ok, 1);
  } finally {
    await client.close();
    await server.close();
  }
});

test('a per-method timeout set by an interceptor is the deadline the server sees', async () => {
  const timeouts: Record<string, number> = { 'Echo/inspect': 150 };
  const { server, target } = await serve(Echo, echoHandlers());
  const client = createClient(Echo, target, {
    timeoutMs: 5000,
    interceptors: [
      (call, next) => {
        call.timeoutMs ??= timeouts[call.method.path];
        return next();
      },
    ],
  });
  try {
    const short = await client.inspect({});
    assert.ok(short.remainingMs <= 150, `inspect had ${short.remainingMs} ms`);
    const explicit = await client.inspect({}, { timeoutMs: 3000 });
    assert.ok(explicit.remainingMs > 150, `with its own timeoutMs, inspect had ${explicit.remainingMs} ms`);
  } finally {
    await client.close();
    await server.close();
  }
});

test('a server interceptor may change the request and the result', async () => {
  const shout: ServerInterceptor = async (call, next) => {
    call.request = { text: `${(call.request as { text: string }).text}!` };
    const result = (await next()) as { text: string };
    return { text: result.text.toUpperCase() };
  };
  const { server, target } = await serve(Echo, echoHandlers(), { interceptors: [shout] });
  const client = createClient(Echo, target);
  try {
    assert.equal(await client.echo({ text: 'hey' }), { text: 'HEY!' });
  } finally {
    await client.close();
    await server.close();
  }
});

test('the built-in health service is not behind the server’s interceptors', async () => {
  const refuseAll: ServerInterceptor = async (call) => {
    throw new RpcError(Status.UNAUTHENTICATED, `${call.method.path}: no token`);
  };
  const { server, target } = await serve(Echo, echoHandlers(), { interceptors: [refuseAll] });
  const echo = createClient(Echo, target);
  const health = createClient(HealthService, echo.channel);
  try {
    assert.is(((await rejection(echo.echo({ text: 'x' }))) as RpcError).code, 'UNAUTHENTICATED');
    assert.is((await health.check({ service: '' })).status, 'SERVING');
  } finally {
    await echo.close();
    await server.close();
  }
});

test('interceptors options are checked at construction, by name', () => {
  assert.throws(
    () => createServer({ interceptors: 'log' as never }),
    (error: unknown) => error instanceof InvalidArgumentError && /interceptors must be an array/.test(error.message),
  );
  assert.throws(
    () => createServer().addService(Echo, echoHandlers(), { interceptors: [42 as never] }),
    (error: unknown) =>
      error instanceof InvalidArgumentError && /interceptors\[0\] must be a function/.test(error.message),
  );
  assert.throws(
    () => createChannel('127.0.0.1:1', { interceptors: [null as never] }),
    (error: unknown) => error instanceof InvalidArgumentError,
  );
  const channel = createChannel('127.0.0.1:1');
  assert.throws(
    () => createClient(Echo, channel, { timeoutMs: 5 }),
    (error: unknown) =>
      error instanceof InvalidArgumentError && /"timeoutMs" is an option of the channel/.test(error.message),
  );
  channel.destroy();
});

test.run();
