import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LOWEST_BUSINESS_PRIORITY, USER_LEVELS, defineService, method, priorityHour, userPriority } from 'corpc';
import { Echo, echoHandlers, type ContextView } from '../services/echo/echo.ts';
import { scopedTest } from './helpers/scope.ts';

const SECRET = 'shared-entry-secret';

const Front = defineService(
  'Front',
  {
    checkout: method<Record<string, never>, { front: ContextView; back: ContextView }>({ businessPriority: 7 }),
    browse: method<Record<string, never>, { front: ContextView; back: ContextView }>(),
  },
  { entry: true },
);

test('user priority: a keyed hash of the user id, stable within the hour, rotating across hours', () => {
  const hour = priorityHour(Date.UTC(2024, 0, 1, 10, 30));
  const u = userPriority('alice', SECRET, hour);
  assert.ok(Number.isInteger(u) && u >= 0 && u < USER_LEVELS);
  assert.is(userPriority('alice', SECRET, hour), u);
  assert.is(priorityHour(Date.UTC(2024, 0, 1, 10, 59)), hour);
  // Over many hours and users, the levels spread and change.
  const levels = new Set<number>();
  for (let h = 0; h < 50; h++) levels.add(userPriority('alice', SECRET, hour + h));
  assert.ok(levels.size > 20, `${levels.size} distinct levels over 50 hours`);
  const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
  assert.ok(
    users.some((user) => userPriority(user, 'another-secret', hour) !== userPriority(user, SECRET, hour)),
    'the secret keys the hash',
  );
});

scopedTest('an entry service assigns priorities and ignores the caller’s; they survive two more hops', async (t) => {
  const back = await t.serve(Echo, echoHandlers());
  const backClient = t.client(Echo, back.target);
  const handler = async () => ({ front: await backClient.inspect({}), back: await backClient.inspect({}) });
  const front = await t.serve(
    Front,
    { checkout: handler, browse: handler },
    { entry: { secret: SECRET, businessPriorities: { 'Front/browse': 20 } } },
  );
  const client = t.client(Front, front.target);
  const expectedUser = userPriority('alice', SECRET);
  // The outside caller claims the highest priorities; the entry overrides them.
  const reply = await client.checkout({}, { businessPriority: 0, userPriority: 0, metadata: { 'user-id': 'alice' } });
  for (const seen of [reply.front, reply.back]) {
    assert.is(seen.businessPriority, 7);
    assert.is(seen.userPriority, expectedUser);
  }
  const browse = await client.browse({}, { businessPriority: 0, metadata: { 'user-id': 'alice' } });
  assert.is(browse.back.businessPriority, 20, 'the config table overrides the descriptor');
  assert.is(browse.back.userPriority, expectedUser);
});

scopedTest('a method an entry does not rank gets the lowest business priority', async (t) => {
  const Shop = defineService('Shop', { misc: method<Record<string, never>, ContextView>() }, { entry: true });
  const { target } = await t.serve(Shop, {
    async misc(_request, ctx) {
      return {
        remainingMs: 0,
        businessPriority: ctx.businessPriority,
        userPriority: ctx.userPriority,
        traceId: '',
        metadata: {},
      };
    },
  });
  const client = t.client(Shop, target);
  assert.is((await client.misc({}, { businessPriority: 0 })).businessPriority, LOWEST_BUSINESS_PRIORITY);
});

test.run();
