import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RpcError, createClient } from 'corpc';
import { Echo, echoHandlers } from '../services/echo/echo.ts';
import { makeCertificates } from './helpers/certs.ts';
import { RawPeer } from './helpers/raw-peer.ts';
import { rejection, serve } from './helpers/servers.ts';

const certs = makeCertificates();

test('TLS: a client that trusts the CA talks to a TLS server; the bytes on the wire are not corpc frames', async () => {
  const { server, target, port } = await serve(Echo, echoHandlers(), { tls: { key: certs.serverKey, cert: certs.serverCert } });
  const client = createClient(Echo, target, { tls: { ca: certs.ca } });
  const byName = createClient(Echo, `localhost:${port}`, { tls: { ca: certs.ca } });
  const plain = await RawPeer.connect(port);
  try {
    assert.equal(await client.echo({ text: 'secret' }), { text: 'secret' });
    assert.equal(await byName.echo({ text: 'by name' }), { text: 'by name' });
    plain.preface(); // plain corpc to a TLS port: the handshake fails, the server carries on
    await plain.waitClosed();
    assert.equal(await client.echo({ text: 'still' }), { text: 'still' });
  } finally {
    plain.destroy();
    await client.close();
    await byName.close();
    await server.close();
  }
});

test('TLS: a client that does not trust the server certificate fails with UNAVAILABLE naming the problem', async () => {
  const { server, target } = await serve(Echo, echoHandlers(), { tls: { key: certs.serverKey, cert: certs.serverCert } });
  const untrusting = createClient(Echo, target, { tls: {} });
  const wrongName = createClient(Echo, target, { tls: { ca: certs.ca, servername: 'elsewhere.example' } });
  try {
    const error = (await rejection(untrusting.echo({ text: 'x' }))) as RpcError;
    assert.instance(error, RpcError);
    assert.is(error.code, 'UNAVAILABLE');
    assert.match(error.message, /certificate/);
    const named = (await rejection(wrongName.echo({ text: 'x' }))) as RpcError;
    assert.is(named.code, 'UNAVAILABLE');
    assert.match(named.message, /elsewhere\.example/);
  } finally {
    untrusting.destroy();
    wrongName.destroy();
    await server.close();
  }
});

test('mutual TLS: only clients with a certificate from the CA are served', async () => {
  const { server, target } = await serve(Echo, echoHandlers(), {
    tls: { key: certs.serverKey, cert: certs.serverCert, ca: certs.ca, requestCert: true },
  });
  const member = createClient(Echo, target, { tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey } });
  const anonymous = createClient(Echo, target, { tls: { ca: certs.ca } });
  const stranger = createClient(Echo, target, { tls: { ca: certs.ca, cert: certs.strangerCert, key: certs.strangerKey } });
  try {
    assert.equal(await member.echo({ text: 'member' }), { text: 'member' });
    for (const outsider of [anonymous, stranger]) {
      const error = (await rejection(outsider.echo({ text: 'let me in' }, { timeoutMs: 2000 }))) as RpcError;
      assert.instance(error, RpcError);
      assert.is(error.code, 'UNAVAILABLE');
    }
    assert.equal(await member.echo({ text: 'still served' }), { text: 'still served' });
  } finally {
    await member.close();
    anonymous.destroy();
    stranger.destroy();
    await server.close();
  }
});

test.run();
