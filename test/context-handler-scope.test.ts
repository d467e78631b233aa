import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AsyncLocalStorage } from 'node:async_hooks';
import { RequestContext, currentContext } from 'corpc';
import { HandlerScope, now } from 'corpc/internal';

const ctxOf = (name: string): RequestContext =>
  new RequestContext(name, now() + 500, 10, 20, `trace-${name}`, '', null);

test('a handler run in a HandlerScope sees its context, across awaits, and the caller gets its own back', async () => {
  const scope = new HandlerScope();
  const seen: string[] = [];
  const handler = async (label: string): Promise<void> => {
    seen.push(`${label}:${currentContext()?.method}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    seen.push(`${label}:${currentContext()?.method}`);
  };
  const done: Promise<void>[] = [];
  const caller = (): void => {
    done.push(scope.run(ctxOf('a'), handler, 'a', undefined, undefined));
    assert.is(currentContext(), undefined, 'the caller is outside any context again');
    done.push(scope.run(ctxOf('b'), handler, 'b', undefined, undefined));
  };
  caller();
  await Promise.all(done);
  assert.equal(seen.sort(), ['a:a', 'a:a', 'b:b', 'b:b']);
});

// Node 24's AsyncContextFrame: a scope is the async context of where it was made.
const frames =
  Number(process.versions.node.split('.')[0]) >= 24 && !process.execArgv.includes('--no-async-context-frame');
(frames ? test : test.skip)(
  "on AsyncContextFrame a HandlerScope keeps the stores of where it was made, and a handler's own stay in its call",
  () => {
    const tenant = new AsyncLocalStorage<string>();
    const scope = tenant.run('tenant-1', () => new HandlerScope());
    const seen: (string | undefined)[] = [];
    const handler = (set: boolean): void => {
      seen.push(tenant.getStore());
      if (set) tenant.enterWith('set-by-a-handler');
    };
    scope.run(ctxOf('a'), handler, true, undefined, undefined);
    scope.run(ctxOf('b'), handler, false, undefined, undefined);
    assert.equal(seen, ['tenant-1', 'tenant-1']);
    assert.is(tenant.getStore(), undefined, 'nor does it reach the caller');
  },
);

test.run();
