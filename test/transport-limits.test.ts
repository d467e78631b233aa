import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type RpcError, createClient, defineService, method } from 'corpc';
import { protocol } from 'corpc/internal';
import { Echo, echoHandlers } from '../services/echo/echo.ts';
import { eventually } from './helpers/eventually.ts';
import { RawPeer } from './helpers/raw-peer.ts';
import { delay, rejection, serve, waitForLine } from './helpers/servers.ts';
import { scopedTest } from './helpers/scope.ts';

const { FrameKind } = protocol;

scopedTest(
  'an oversize length prefix closes that connection before the body is buffered; others keep working',
  async (t) => {
    const { server, target, port } = await serve(Echo, echoHandlers(), { maxFrameBytes: 64 * 1024 });
    const good = createClient(Echo, target);
    const bad = await RawPeer.connect(port);
    t.defer(() => server.close());
    t.defer(() => good.close());
    t.defer(() => bad.destroy());
    assert.equal(await good.echo({ text: 'before' }), { text: 'before' });
    bad.preface();
    const header = Buffer.alloc(9);
    header.writeUInt32BE(1024 * 1024 * 1024, 0); // declares 1 GiB, sends only the header
    header[4] = FrameKind.REQUEST;
    bad.write(header);
    await bad.waitClosed();
    assert.match(bad.goawayMessage() ?? '', /exceeds the limit of 65536 bytes/);
    assert.equal(await good.echo({ text: 'after' }), { text: 'after' });
  },
);

scopedTest('garbage bytes, a wrong preface or an unknown frame kind close only the offending connection', async (t) => {
  const { target, port } = await t.serve(Echo, echoHandlers());
  const good = t.client(Echo, target);
  const afterPreface = (send: (peer: RawPeer) => void) => (peer: RawPeer) => {
    peer.preface();
    send(peer);
  };
  const cases: [string, (peer: RawPeer) => void, RegExp][] = [
    ['HTTP request', (peer) => peer.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), /speaks HTTP/],
    ['random bytes', (peer) => peer.write(Buffer.from('0123456789abcdef', 'hex')), /preface/],
    ['unknown kind', afterPreface((peer) => peer.write(peer.frame(99, 1))), /unknown frame kind 99/],
    [
      'response from a client',
      afterPreface((peer) => peer.write(peer.frame(FrameKind.RESPONSE, 1, Buffer.alloc(2)))),
      /may not send/,
    ],
    [
      'header not msgpack',
      afterPreface((peer) => peer.write(peer.frame(FrameKind.REQUEST, 1, Buffer.from([0, 2, 0xc1, 0xc1])))),
      /not valid MessagePack/,
    ],
    [
      'header wrong shape',
      afterPreface((peer) => peer.write(peer.request(1, ['Echo/echo', 'soon', 0, 0, 't', null]))),
      /deadline must be/,
    ],
    [
      'priority out of range',
      afterPreface((peer) => peer.write(peer.request(1, ['Echo/echo', 100, 999, 0, 't', null]))),
      /business priority/,
    ],
  ];
  for (const [name, send, expected] of cases) {
    const peer = await RawPeer.connect(port);
    send(peer);
    await peer.waitClosed();
    if (!name.startsWith('random')) assert.match(peer.goawayMessage() ?? '', expected, name);
    peer.destroy();
    assert.equal(await good.echo({ text: name }), { text: name }, `still serving after: ${name}`);
  }
});

scopedTest('a malformed body is answered INVALID_ARGUMENT and the connection stays open', async (t) => {
  const { server, port } = await serve(Echo, echoHandlers());
  const peer = await RawPeer.connect(port);
  t.defer(() => server.close());
  t.defer(() => peer.destroy());
  peer.preface();
  const frame = peer.request(7, ['Echo/echo', 1000, 0, 0, 't', null]);
  const withBadBody = Buffer.concat([frame, Buffer.from([0x92, 0x01])]); // an array of 2 with 1 item
  withBadBody.writeUInt32BE(withBadBody.length - 4, 0);
  peer.write(withBadBody);
  peer.write(peer.request(8, ['Echo/echo', 1000, 0, 0, 't', null], { text: 'ok' }));
  for (let i = 0; i < 100 && peer.frameKinds().length < 2; i++) await delay(10);
  assert.equal(peer.frameKinds(), [FrameKind.ERROR, FrameKind.RESPONSE]);
  assert.not.ok(peer.closed);
});

scopedTest('requests beyond maxInFlightPerConnection are answered RESOURCE_EXHAUSTED', async (t) => {
  const Park = defineService('Park', { wait: method<{ ms: number }, null>() });
  const { target } = await t.serve(
    Park,
    {
      wait: async ({ ms }) => {
        await delay(ms);
        return null;
      },
    },
    { maxInFlightPerConnection: 2 },
  );
  const client = t.client(Park, target, { timeoutMs: 5000 });
  const results = await Promise.allSettled([
    client.wait({ ms: 100 }),
    client.wait({ ms: 100 }),
    client.wait({ ms: 100 }),
  ]);
  assert.equal(
    results.map((r) => r.status),
    ['fulfilled', 'fulfilled', 'rejected'],
  );
  const error = (results[2] as PromiseRejectedResult).reason as RpcError;
  assert.is(error.code, 'RESOURCE_EXHAUSTED');
  assert.is(error.reason, 'too_many_in_flight');
});

scopedTest('a server process that dies fails the calls in flight with UNAVAILABLE', async (t) => {
  const child = t.spawnTs('test/fixtures/echo-server.ts');
  const [, port] = await waitForLine(child, /^listening (\d+)$/);
  const Hold = defineService('Hold', { forever: method<Record<string, never>, never>() });
  const client = createClient(Hold, `127.0.0.1:${port}`, { timeoutMs: 30_000 });
  const echo = createClient(Echo, `127.0.0.1:${port}`);
  assert.equal(await echo.echo({ text: 'up' }), { text: 'up' });
  const inFlight = Promise.all([1, 2, 3].map(() => rejection(client.forever({}))));
  await delay(100);
  child.kill('SIGKILL');
  const errors = (await inFlight) as RpcError[];
  assert.equal(
    errors.map((e) => e.code),
    ['UNAVAILABLE', 'UNAVAILABLE', 'UNAVAILABLE'],
  );
  client.destroy();
  echo.destroy();
});

scopedTest('server.close() drains: calls in flight finish, new connections are refused', async (t) => {
  const Park = defineService('Park', { wait: method<{ ms: number }, { ok: true }>() });
  const { server, target } = await serve(Park, {
    wait: async ({ ms }) => {
      await delay(ms);
      return { ok: true as const };
    },
  });
  const client = createClient(Park, target, { timeoutMs: 5000 });
  t.defer(() => client.destroy());
  const inFlight = client.wait({ ms: 200 });
  await eventually('the call to reach the server', () => server.stats().inFlight > 0);
  const closed = server.close(5000);
  assert.equal(await inFlight, { ok: true });
  await closed;
  const after = (await rejection(client.wait({ ms: 0 }))) as RpcError;
  assert.is(after.code, 'UNAVAILABLE');
});

scopedTest('a peer that sends requests but never reads cannot make the server buffer without bound', async (t) => {
  const Big = defineService('Big', { blob: method<null, string>() });
  const answer = 'x'.repeat(64 * 1024);
  const limit = 256 * 1024;
  const { server, port } = await serve(
    Big,
    { blob: () => answer },
    { maxBufferedBytesPerConnection: limit, maxInFlightPerConnection: 64 },
  );
  const peer = await RawPeer.connect(port);
  t.defer(() => server.close(0));
  t.defer(() => peer.destroy());
  peer.socket.pause(); // never read a byte of the answers
  peer.preface();
  const frames: Buffer[] = [];
  for (let id = 1; id <= 2000; id++) frames.push(peer.request(id, ['Big/blob', 60_000, 0, 0, 't', null], null));
  // 2000 answers of 64 KiB would be 128 MiB if nothing held them back. Twice: the second
  // batch arrives when the socket is already full.
  peer.write(Buffer.concat(frames));
  let peak = 0;
  for (let i = 0; i < 40; i++) {
    await delay(25);
    if (i === 20) {
      for (const [id, frame] of frames.entries()) frame.writeUInt32BE(5000 + id, 5);
      peer.write(Buffer.concat(frames));
    }
    peak = Math.max(peak, server.stats().maxBufferedBytes);
  }
  const stats = server.stats();
  assert.is(stats.pausedConnections, 1, 'the server stopped reading from the slow peer');
  // Bounded by the limit plus the answers of the calls in flight (64 × 64 KiB).
  assert.ok(peak < 8 * 1024 * 1024, `server buffered ${peak} bytes for a peer that reads nothing`);
});

test.run();
