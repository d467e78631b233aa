import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RpcError, createClient } from 'corpc';
import { Echo, echoHandlers } from '../services/echo/echo.ts';
import { makeCertificates } from './helpers/certs.ts';
import { RawPeer } from './helpers/raw-peer.ts';
import { rejection, serve } from './helpers/servers.ts';
import { scopedTest } from './helpers/scope.ts';

const certs = makeCertificates();

scopedTest(
  'TLS: a client that trusts the CA talks to a TLS server; the bytes on the wire are not corpc frames',
  async (t) => {
    const { server, target, port } = await serve(Echo, echoHandlers(), {
      tls: { key: certs.serverKey, cert: certs.serverCert },
    });
    const client = createClient(Echo, target, { tls: { ca: certs.ca } });
    const byName = createClient(Echo, `localhost:${port}`, { tls: { ca: certs.ca } });
    const plain = await RawPeer.connect(port);
    t.defer(() => server.close());
    t.defer(() => byName.close());
    t.defer(() => client.close());
    t.defer(() => plain.destroy());
    assert.equal(await client.echo({ text: 'secret' }), { text: 'secret' });
    assert.equal(await byName.echo({ text: 'by name' }), { text: 'by name' });
    plain.preface(); // plain corpc to a TLS port: the handshake fails, the server carries on
    await plain.waitClosed();
    assert.equal(await client.echo({ text: 'still' }), { text: 'still' });
  },
);

scopedTest(
  'TLS: a client that does not trust the server certificate fails with UNAVAILABLE naming the problem',
  async (t) => {
    const { server, target } = await serve(Echo, echoHandlers(), {
      tls: { key: certs.serverKey, cert: certs.serverCert },
    });
    const untrusting = createClient(Echo, target, { tls: {} });
    const wrongName = createClient(Echo, target, { tls: { ca: certs.ca, servername: 'elsewhere.example' } });
    t.defer(() => server.close());
    t.defer(() => wrongName.destroy());
    t.defer(() => untrusting.destroy());
    const error = (await rejection(untrusting.echo({ text: 'x' }))) as RpcError;
    assert.instance(error, RpcError);
    assert.is(error.code, 'UNAVAILABLE');
    assert.match(error.message, /certificate/);
    const named = (await rejection(wrongName.echo({ text: 'x' }))) as RpcError;
    assert.is(named.code, 'UNAVAILABLE');
    assert.match(named.message, /elsewhere\.example/);
  },
);

scopedTest('mutual TLS: only clients with a certificate from the CA are served', async (t) => {
  const { server, target } = await serve(Echo, echoHandlers(), {
    tls: { key: certs.serverKey, cert: certs.serverCert, ca: certs.ca, requestCert: true },
  });
  const member = createClient(Echo, target, { tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey } });
  const anonymous = createClient(Echo, target, { tls: { ca: certs.ca } });
  const stranger = createClient(Echo, target, {
    tls: { ca: certs.ca, cert: certs.strangerCert, key: certs.strangerKey },
  });
  t.defer(() => server.close());
  t.defer(() => stranger.destroy());
  t.defer(() => anonymous.destroy());
  t.defer(() => member.close());
  assert.equal(await member.echo({ text: 'member' }), { text: 'member' });
  for (const outsider of [anonymous, stranger]) {
    const error = (await rejection(outsider.echo({ text: 'let me in' }, { timeoutMs: 2000 }))) as RpcError;
    assert.instance(error, RpcError);
    assert.is(error.code, 'UNAVAILABLE');
  }
  assert.equal(await member.echo({ text: 'still served' }), { text: 'still served' });
});

test.run();
