import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LOWEST_BUSINESS_PRIORITY, createClient, type AdmissionPolicy } from 'corpc';
import { ADMIT_ALL, compoundLevel } from 'corpc/internal';
import { Echo, echoHandlers } from '../services/echo/echo.ts';
import { eventually } from './helpers/eventually.ts';
import { serve } from './helpers/servers.ts';
import { scopedTest } from './helpers/scope.ts';

const KEY = 'a shared secret of the trusted tier';
const LOWEST_USER = 127;

scopedTest(
  'with a priorityKey, an untrusted caller claiming top priority is served at the lowest; a trusted one keeps its priorities',
  async (t) => {
    const { server, target } = await serve(Echo, echoHandlers(), { priorityKey: KEY });
    const outsider = createClient(Echo, target);
    const forger = createClient(Echo, target, { priorityKey: 'not the shared secret at all' });
    const insider = createClient(Echo, target, { priorityKey: KEY });
    t.defer(() => server.close());
    t.defer(() => Promise.all([outsider.close(), forger.close(), insider.close()]));
    for (const untrusted of [outsider, forger]) {
      const seen = await untrusted.inspect({}, { businessPriority: 0, userPriority: 0, metadata: { who: 'outsider' } });
      assert.is(seen.businessPriority, LOWEST_BUSINESS_PRIORITY);
      assert.is(seen.userPriority, LOWEST_USER);
      assert.equal(
        seen.metadata,
        { who: 'outsider' },
        'the rest of the request is untouched; the signature is not passed on',
      );
    }
    const trusted = await insider.inspect({}, { businessPriority: 2, userPriority: 5, metadata: { who: 'insider' } });
    assert.is(trusted.businessPriority, 2);
    assert.is(trusted.userPriority, 5);
    assert.equal(trusted.metadata, { who: 'insider' });
    // A signature copied onto other priorities does not verify.
    const copied = await outsider.inspect(
      {},
      {
        businessPriority: 0,
        userPriority: 0,
        traceId: 'trace-1',
        metadata: { 'corpc-priority-sig': 'AAAAAAAAAAAAAAAAAAAAAA' },
      },
    );
    assert.is(copied.businessPriority, LOWEST_BUSINESS_PRIORITY);
  },
);

scopedTest('between trusted services the priorities travel signed through every hop', async (t) => {
  const back = await serve(Echo, echoHandlers(), { priorityKey: KEY });
  const backClient = createClient(Echo, back.target, { priorityKey: KEY });
  const front = await serve(Echo, echoHandlers(backClient), { priorityKey: KEY });
  const insider = createClient(Echo, front.target, { priorityKey: KEY });
  const outsider = createClient(Echo, front.target);
  t.defer(() => back.server.close());
  t.defer(() => backClient.close());
  t.defer(() => front.server.close());
  t.defer(() => Promise.all([insider.close(), outsider.close()]));
  const signed = await insider.relay({ text: 'hi' }, { businessPriority: 3, userPriority: 9 });
  assert.equal([signed.outer.businessPriority, signed.outer.userPriority], [3, 9]);
  assert.equal([signed.inner.businessPriority, signed.inner.userPriority], [3, 9]);
  const spoofed = await outsider.relay({ text: 'hi' }, { businessPriority: 0, userPriority: 0 });
  assert.equal(
    [spoofed.outer.businessPriority, spoofed.inner.businessPriority],
    [LOWEST_BUSINESS_PRIORITY, LOWEST_BUSINESS_PRIORITY],
  );
});

scopedTest(
  "a healthCheck client's Watch is signed too: a server that trusts only signed priorities keeps it at the top",
  async (t) => {
    // The built-in health service runs no interceptors: the server's admission policy sees the
    // compound level of every request it is asked to admit (that of B=0 U=0 is 0).
    const levels: number[] = [];
    const recording: AdmissionPolicy = {
      name: 'recording',
      level: ADMIT_ALL,
      advertisedLevel: ADMIT_ALL,
      overloaded: false,
      admit: (level) => levels.push(level) > 0,
      dequeue: () => true,
      onWindow: () => undefined,
    };
    const { server, target } = await serve(Echo, echoHandlers(), {
      priorityKey: KEY,
      admission: { policy: recording },
    });
    t.defer(() => server.close());
    const insider = createClient(Echo, target, { priorityKey: KEY, healthCheck: true });
    t.defer(() => insider.close());
    await insider.echo({ text: 'hi' }, { businessPriority: 5, userPriority: 5 });
    await eventually('the Watch arrives', () => levels.length === 2);
    assert.equal(
      levels.sort((a, b) => a - b),
      [compoundLevel(0, 0), compoundLevel(5, 5)],
    );
  },
);

test.run();
