import { createChannel, createClient, createServer, InvalidArgumentError, Resolver } from 'corpc';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Echo } from '../services/echo/echo.ts';
import { validateConfig } from '../runtime/config.ts';

function rejects(make: () => unknown, message: string): void {
  try {
    make();
  } catch (error) {
    assert.instance(error, InvalidArgumentError);
    assert.is((error as Error).message, message);
    return;
  }
  assert.unreachable(`accepted; expected "${message}"`);
}

test('a misspelt option is rejected at construction, naming the option nearest to it', () => {
  rejects(() => createServer({ concurency: 4 } as never), 'concurency: unknown key (did you mean "concurrency"?)');
  rejects(
    () => createServer({ admission: { alpa: 0.1 } } as never),
    'admission.alpa: unknown key (did you mean "alpha"?)',
  );
  rejects(
    () => createServer({ entry: { userIdkey: 'uid' } } as never),
    'entry.userIdkey: unknown key (did you mean "userIdKey"?)',
  );
  rejects(
    () => createServer({ tls: { key: 'k', cert: 'c', requestCrt: true } } as never),
    'tls.requestCrt: unknown key (did you mean "requestCert"?)',
  );
  rejects(
    () => createClient(Echo, '127.0.0.1:1', { timeoutMS: 50 } as never),
    'timeoutMS: unknown key (did you mean "timeoutMs"?)',
  );
  rejects(
    () => createChannel('127.0.0.1:1', { tls: { servrname: 'x' } } as never),
    'tls.servrname: unknown key (did you mean "servername"?)',
  );
  rejects(() => createChannel('127.0.0.1:1', { frobnicate: true } as never), 'frobnicate: unknown key');
  rejects(() => new Resolver({ maxTtl: 5 } as never), 'maxTtl: unknown key (did you mean "maxTtlMs"?)');
});

test('the config file says the same of the same typo', () => {
  rejects(() => validateConfig({ admission: { alpa: 0.1 } }), 'admission.alpa: unknown key (did you mean "alpha"?)');
});

test('every documented option is still accepted', async () => {
  const server = createServer({
    concurrency: 4,
    maxQueueLength: 10,
    closeGraceMs: 10,
    admission: { policy: 'dagor', alpha: 0.1, beta: 0.02, dryRun: false, windowMs: 100 },
    entry: { secret: 's', userIdKey: 'uid', all: false },
    maxConnections: 10,
  });
  const channel = createChannel('127.0.0.1:1', {
    timeoutMs: 50,
    connectionsPerEndpoint: 2,
    keepaliveIntervalMs: 0,
    maxRetries: 1,
    maxMessageBytes: 4096,
  });
  channel.destroy();
  await server.close();
});

test.run();
