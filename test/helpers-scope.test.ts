import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Server as NetServer, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Echo, echoHandlers } from '../services/echo/echo.ts';
import { rejection, stopChild } from './helpers/servers.ts';
import { activeResources, leakedSince, scoped } from './helpers/scope.ts';

// The leak checks below wait 200 ms for a leak to go away, not the default 3 s.
const quick = { settleMs: 200 };

// uvu runs every file in one process: what an earlier file's test left closing would close during
// one of these and hide the leak it checks for. Each starts once the process's resources are steady.
test.before.each(async () => {
  const key = (): string => [...activeResources()].sort().join(',');
  let last = key();
  let steadySince = performance.now();
  for (const deadline = performance.now() + 5000; performance.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = key();
    if (now !== last) [last, steadySince] = [now, performance.now()];
    else if (performance.now() - steadySince >= 300) return;
  }
});

test('a test that leaves a listening socket open fails, naming it', async () => {
  let listener: NetServer | null = null;
  const error = (await rejection(
    scoped(async () => {
      listener = createServer().listen(0, '127.0.0.1');
      await once(listener, 'listening');
    }, quick)(),
  )) as Error;
  assert.match(error.message, /^the test left open: .*TCPServerWrap ×1/);
  (listener as NetServer | null)?.close();
});

test('a test that leaves a connected socket open fails', async () => {
  const listener = createServer((socket) => socket.on('error', () => undefined)).listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const { port } = listener.address() as { port: number };
  let socket: Socket | null = null;
  const error = (await rejection(
    scoped(async () => {
      socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
    }, quick)(),
  )) as Error;
  // The leaked client socket, and the server's end of it.
  assert.match(error.message, /TCPSocketWrap ×2/);
  (socket as Socket | null)?.destroy();
  listener.close();
  await once(listener, 'close');
});

test("a test that leaves a timer running fails; an unref'd timer is not a leak", async () => {
  let timer: NodeJS.Timeout | undefined;
  const error = (await rejection(scoped(() => void (timer = setTimeout(() => undefined, 60_000)), quick)())) as Error;
  assert.is(error.message, 'the test left open: Timeout ×1');
  clearTimeout(timer);
  let background: NodeJS.Timeout | undefined;
  await scoped(() => void (background = setTimeout(() => undefined, 60_000).unref()), quick)();
  clearTimeout(background);
});

test('a test that leaves a child process running fails', async () => {
  let child: ChildProcess | null = null;
  const error = (await rejection(
    scoped(() => {
      child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    }, quick)(),
  )) as Error;
  assert.match(error.message, /ProcessWrap ×1/);
  await stopChild(child!);
});

test("what a test opened through its scope is closed even when the test fails, with the test's own error", async () => {
  const before = activeResources();
  let port = 0;
  let child: ChildProcess | null = null;
  const error = (await rejection(
    scoped(async (t) => {
      const running = await t.serve(Echo, echoHandlers());
      port = running.port;
      const client = t.client(Echo, running.target);
      assert.equal(await client.echo({ text: 'hi' }), { text: 'hi' });
      child = t.child(spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' }));
      t.defer(() => {
        throw new Error('a closer that fails does not stop the others');
      });
      throw new Error('boom');
    })(),
  )) as Error;
  assert.is(error.message, 'boom');
  assert.ok((child as ChildProcess | null)?.signalCode === 'SIGKILL', 'the child was killed');
  const refused = connect(port, '127.0.0.1');
  const [connectError] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
  assert.is(connectError.code, 'ECONNREFUSED', 'the server was closed');
  assert.equal(await leakedSince(before, 3000), []);
});

test(
  'a clean test passes',
  scoped(async (t) => {
    const { target } = await t.serve(Echo, echoHandlers());
    assert.equal(await t.client(Echo, target).echo({ text: 'ok' }), { text: 'ok' });
  }),
);

test.run();
