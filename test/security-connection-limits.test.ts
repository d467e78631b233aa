import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InvalidArgumentError, createClient, createServer, defineService, method } from 'corpc';
import { protocol } from 'corpc/internal';
import { Echo, echoHandlers } from '../services/echo/echo.ts';
import { RawPeer } from './helpers/raw-peer.ts';
import { delay, serve } from './helpers/servers.ts';
import { scopedTest } from './helpers/scope.ts';

const { FrameKind, PREFACE } = protocol;

/** Writes `bytes` one byte every `everyMs` until the server closes the connection or the bytes run out. */
async function dribble(peer: RawPeer, bytes: Buffer, everyMs: number): Promise<number> {
  let sent = 0;
  while (sent < bytes.length && !peer.closed) {
    peer.write(bytes.subarray(sent, sent + 1));
    sent++;
    await delay(everyMs);
  }
  return sent;
}

scopedTest(
  'slowloris: a peer sending one byte at a time is cut off at the handshake and frame timeouts; other clients are served meanwhile',
  async (t) => {
    const { server, target, port } = await serve(Echo, echoHandlers(), {
      handshakeTimeoutMs: 300,
      frameTimeoutMs: 300,
    });
    const good = createClient(Echo, target);
    const inPreface = await RawPeer.connect(port);
    const inFrame = await RawPeer.connect(port);
    t.defer(() => server.close());
    t.defer(() => good.close());
    t.defer(() => inFrame.destroy());
    t.defer(() => inPreface.destroy());
    const frame = inFrame.request(1, ['Echo/echo', 1000, 0, 0, 't', null], { text: 'slow' });
    inFrame.preface();
    const dribbling = [dribble(inPreface, PREFACE, 100), dribble(inFrame, frame, 100)] as const;
    // The good client is served while both dribble.
    for (let i = 0; i < 5; i++) assert.equal(await good.echo({ text: `good ${i}` }), { text: `good ${i}` });
    const [prefaceBytes, frameBytes] = await Promise.all(dribbling);
    assert.ok(prefaceBytes < PREFACE.length, 'the preface was never finished');
    assert.ok(frameBytes < frame.length, 'the frame was never finished');
    await inPreface.waitClosed();
    await inFrame.waitClosed();
    assert.match(inPreface.goawayMessage() ?? '', 'no corpc preface within 300 ms (handshakeTimeoutMs)');
    assert.match(inFrame.goawayMessage() ?? '', 'a frame was not completed within 300 ms (frameTimeoutMs)');
    assert.equal(await good.echo({ text: 'after' }), { text: 'after' });
  },
);

scopedTest(
  'an idle connection gets a GOAWAY after idleTimeoutMs; a client whose connection went idle just reconnects',
  async (t) => {
    const { server, target, port } = await serve(Echo, echoHandlers(), { idleTimeoutMs: 200 });
    const client = createClient(Echo, target);
    const idle = await RawPeer.connect(port);
    t.defer(() => server.close());
    t.defer(() => client.close());
    t.defer(() => idle.destroy());
    idle.preface();
    idle.write(idle.frame(FrameKind.PING, 1)); // pings do not count as activity
    await idle.waitClosed();
    assert.match(idle.goawayMessage() ?? '', 'the connection was idle for 200 ms (idleTimeoutMs)');
    assert.equal(await client.echo({ text: 'one' }), { text: 'one' });
    await delay(500);
    assert.equal(await client.echo({ text: 'two' }), { text: 'two' });
  },
);

scopedTest(
  'connections beyond maxConnections are refused with a GOAWAY naming the limit; the others keep working',
  async (t) => {
    const { target, port } = await t.serve(Echo, echoHandlers(), { maxConnections: 1 });
    const first = t.client(Echo, target);
    assert.equal(await first.echo({ text: 'in' }), { text: 'in' });
    const extra = await RawPeer.connect(port);
    extra.preface();
    await extra.waitClosed();
    assert.match(extra.goawayMessage() ?? '', 'the server has 1 connections already (maxConnections)');
    extra.destroy();
    assert.equal(await first.echo({ text: 'still in' }), { text: 'still in' });
  },
);

scopedTest(
  'a request header larger than maxHeaderBytes closes the connection with a GOAWAY naming the limit',
  async (t) => {
    const { server, port } = await serve(Echo, echoHandlers(), { maxHeaderBytes: 1024 });
    const peer = await RawPeer.connect(port);
    t.defer(() => server.close());
    t.defer(() => peer.destroy());
    peer.preface();
    peer.write(peer.request(1, ['Echo/echo', 1000, 0, 0, 't', { big: 'x'.repeat(2000) }], { text: 'hi' }));
    await peer.waitClosed();
    assert.match(
      peer.goawayMessage() ?? '',
      /request header of \d+ bytes exceeds the limit of 1024 bytes \(maxHeaderBytes\)/,
    );
  },
);

scopedTest(
  'a peer that stops reading is disconnected after slowReaderTimeoutMs, and what was buffered for it is freed',
  async (t) => {
    const Big = defineService('Big', { blob: method<null, string>() });
    const answer = 'x'.repeat(64 * 1024);
    const { server, port } = await serve(
      Big,
      { blob: () => answer },
      { maxBufferedBytesPerConnection: 64 * 1024, maxInFlightPerConnection: 64, slowReaderTimeoutMs: 300 },
    );
    const peer = await RawPeer.connect(port);
    t.defer(() => server.close(0));
    t.defer(() => peer.destroy());
    peer.socket.pause(); // never read a byte of the answers
    peer.preface();
    const frames: Buffer[] = [];
    for (let id = 1; id <= 500; id++) frames.push(peer.request(id, ['Big/blob', 60_000, 0, 0, 't', null], null));
    peer.write(Buffer.concat(frames));
    let paused = false;
    for (let i = 0; i < 200 && server.stats().connections > 0; i++) {
      paused ||= server.stats().pausedConnections === 1;
      await delay(20);
    }
    assert.ok(paused, 'the server paused the slow reader first');
    assert.is(server.stats().connections, 0, 'then disconnected it');
    assert.is(server.stats().maxBufferedBytes, 0);
  },
);

test('limits are validated by name', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ maxHeaderBytes: 100_000 }, /maxHeaderBytes must be an integer in 64..65535, got 100000/],
    [{ maxConnections: 0 }, /maxConnections must be an integer ≥ 1, got 0/],
    [{ handshakeTimeoutMs: 'soon' }, /handshakeTimeoutMs must be an integer ≥ 1, got "soon"/],
    [{ idleTimeoutMs: -1 }, /idleTimeoutMs must be an integer ≥ 0/],
    [{ frameTimeoutMs: 1.5 }, /frameTimeoutMs must be an integer/],
    [{ slowReaderTimeoutMs: null }, /slowReaderTimeoutMs must be an integer/],
    [{ priorityKey: 'short' }, /priorityKey must be a string or Buffer of at least 16 bytes/],
    [{ tls: { cert: 'x' } }, /tls.key must be PEM text or a Buffer/],
    [{ tls: { key: 'k', cert: 'c', requestCert: true } }, /tls.requestCert needs tls.ca/],
  ];
  for (const [options, expected] of cases) {
    assert.throws(
      () => createServer(options as never),
      (error: unknown) => error instanceof InvalidArgumentError && expected.test((error as Error).message),
    );
  }
  assert.throws(
    () => createClient(Echo, '127.0.0.1:1', { keepaliveTimeoutMs: 0 }),
    /keepaliveTimeoutMs must be an integer ≥ 1, got 0/,
  );
  assert.throws(() => createClient(Echo, '127.0.0.1:1', { tls: { cert: 'c' } }), /tls.cert and tls.key go together/);
});

test.run();
