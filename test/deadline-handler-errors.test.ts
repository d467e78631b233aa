import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Reason, RpcError, Status, createClient, defineService, method, sleep } from 'corpc';
import { protocol } from 'corpc/internal';
import { RawPeer } from './helpers/raw-peer.ts';
import { delay, rejection, serve } from './helpers/servers.ts';

// A deadline that passes inside a handler (in corpc's own `sleep`, say) must reach the caller as
// DEADLINE_EXCEEDED with reason `deadline` and a message written for the caller: the method and
// what happened, not the text of whatever was waiting in the server.

const Nap = defineService('Nap', {
  rest: method<{ ms: number }, { slept: number }>(),
});

const napServer = () =>
  serve(Nap, {
    async rest({ ms }) {
      await sleep(ms);
      return { slept: ms };
    },
  });

/** The [status, message, reason] of the first ERROR frame the peer received, once there is one. */
async function errorAnswer(peer: RawPeer): Promise<unknown[]> {
  for (let i = 0; i < 300 && !peer.frameKinds().includes(protocol.FrameKind.ERROR); i++) await delay(10);
  assert.equal(peer.frameKinds(), [protocol.FrameKind.ERROR], 'one answer, an error');
  const answer = peer.received.subarray(protocol.PREFACE.length);
  return protocol.unpackAt(answer, 11, answer.length) as unknown[];
}

test("a deadline that passes in a handler's sleep is answered DEADLINE_EXCEEDED, reason deadline, worded for the caller", async () => {
  const { server, port } = await napServer();
  // A raw peer enforces no deadline of its own: what it receives is the server's answer.
  const peer = await RawPeer.connect(port);
  try {
    peer.preface();
    peer.write(peer.request(1, ['Nap/rest', 50, 10, 5, 'nap-1', null], { ms: 10_000 }));
    const [status, message, reason] = await errorAnswer(peer);
    assert.is(status, Status.DEADLINE_EXCEEDED);
    assert.is(reason, Reason.Deadline);
    assert.is(message, 'Nap/rest: the deadline passed before the request finished');
  } finally {
    peer.destroy();
    await server.close(0);
  }
});

test("a deadline that cuts a handler's call downstream is answered as the request's own, not the downstream's", async () => {
  const far = await napServer();
  const Relay = defineService('Relay', { pass: method<{ ms: number }, { slept: number }>() });
  const downstream = createClient(Nap, far.target);
  const relay = await serve(Relay, { pass: (request) => downstream.rest(request) });
  const peer = await RawPeer.connect(relay.port);
  try {
    peer.preface();
    peer.write(peer.request(1, ['Relay/pass', 80, 10, 5, 'relay-1', null], { ms: 10_000 }));
    const [status, message, reason] = await errorAnswer(peer);
    assert.is(status, Status.DEADLINE_EXCEEDED);
    assert.is(reason, Reason.Deadline);
    // Not "Nap/rest: no answer from 127.0.0.1:…": the caller asked for Relay/pass, and where Relay
    // calls is its own business.
    assert.is(message, 'Relay/pass: the deadline passed before the request finished');
  } finally {
    peer.destroy();
    downstream.destroy();
    await relay.server.close(0);
    await far.server.close(0);
  }
});

test("a corpc caller sees the same: DEADLINE_EXCEEDED, reason deadline, nothing of the server's sleep", async () => {
  const { server, target } = await napServer();
  const client = createClient(Nap, target);
  try {
    const error = (await rejection(client.rest({ ms: 10_000 }, { timeoutMs: 50 }))) as RpcError;
    assert.instance(error, RpcError);
    assert.is(error.code, 'DEADLINE_EXCEEDED');
    assert.is(error.reason, Reason.Deadline);
    // Whichever came first, the caller's own deadline or the server's answer, the message is the caller's.
    assert.match(error.message, /^Nap\/rest: /);
    assert.not.match(error.message, /sleep|waiting/);
  } finally {
    client.destroy();
    await server.close(0);
  }
});

test.run();
