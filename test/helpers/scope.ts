import type { ChildProcess } from 'node:child_process';
import { test } from 'uvu';
import {
  createChannel,
  createClient,
  type Channel,
  type ChannelOptions,
  type ServerOptions,
  type ServiceClient,
  type ServiceDescriptor,
  type ServiceHandlers,
} from 'corpc';
import { serve, spawnTs, stopChild, type Running } from './servers.ts';

/**
 * Teardown in one place. `scopedTest(name, fn)` registers a uvu test whose body gets a scope
 * that starts its servers, clients and child processes; when the test ends, passed or failed, the scope closes them, last opened
 * first, and then fails the test if it left a socket, a timer or a child process open: the
 * process's active resources (`process.getActiveResourcesInfo()`, which lists only what keeps
 * the event loop alive: unref'd timers are not counted) must be back to what they were before.
 *
 *   scopedTest('…', async (t) => {
 *     const { target } = await t.serve(Echo, echoHandlers());
 *     const client = t.client(Echo, target);
 *     …
 *   });
 *
 * (`scoped(fn)` is the same body as a plain function, for `test(name, scoped(fn))`.)
 */
export class TestScope {
  private readonly closers: (() => unknown)[] = [];

  /** Runs `close` when the test ends (after the ones registered later). */
  defer(close: () => unknown): void {
    this.closers.push(close);
  }

  /** `serve()` from servers.ts; the server is closed (drained) when the test ends. */
  async serve<S extends ServiceDescriptor>(
    service: S,
    handlers: ServiceHandlers<S>,
    options?: ServerOptions,
  ): Promise<Running> {
    const running = await serve(service, handlers, options);
    this.defer(() => running.server.close());
    return running;
  }

  /** `createClient()`; the client is closed when the test ends. */
  client<S extends ServiceDescriptor>(
    service: S,
    target: string | Channel,
    options?: ChannelOptions,
  ): ServiceClient<S> {
    const client = createClient(service, target, options);
    this.defer(() => client.close());
    return client;
  }

  /** `createChannel()`; the channel is closed when the test ends. */
  channel(target: string, options?: ChannelOptions): Channel {
    const channel = createChannel(target, options);
    this.defer(() => channel.close());
    return channel;
  }

  /** `spawnTs()` from servers.ts; the child is killed (and waited for) when the test ends. */
  spawnTs(file: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): ChildProcess {
    return this.child(spawnTs(file, args, env));
  }

  /** A child process started some other way; killed (and waited for) when the test ends. */
  child<C extends ChildProcess>(child: C): C {
    this.defer(() => stopChild(child));
    return child;
  }

  /** Closes everything, last opened first; every closer runs even if one throws (the first error is rethrown). */
  async close(): Promise<void> {
    let failure: { error: unknown } | null = null;
    for (let closer = this.closers.pop(); closer !== undefined; closer = this.closers.pop()) {
      try {
        await closer();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== null) throw failure.error;
  }
}

export interface ScopedOptions {
  /** How long teardown may take to release the last sockets and timers, in ms. Default 3000. */
  settleMs?: number;
}

/** A uvu test (on the file's default suite) whose body runs in a TestScope. */
export function scopedTest(
  name: string,
  body: (scope: TestScope) => Promise<void> | void,
  options?: ScopedOptions,
): void {
  test(name, scoped(body, options));
}

/** Wraps a test body: see TestScope. */
export function scoped(
  body: (scope: TestScope) => Promise<void> | void,
  options: ScopedOptions = {},
): () => Promise<void> {
  const settleMs = options.settleMs ?? 3000;
  return async () => {
    const before = activeResources();
    const scope = new TestScope();
    let failure: { error: unknown } | null = null;
    try {
      await body(scope);
    } catch (error) {
      failure = { error };
    }
    try {
      await scope.close();
      const leaked = await leakedSince(before, settleMs);
      if (leaked.length > 0) throw new Error(`the test left open: ${leaked.join(', ')}`);
    } catch (error) {
      // A failed test's own error says more than its teardown's (which it may have cut short).
      failure ??= { error };
    }
    if (failure !== null) throw failure.error;
  };
}

/** Counts of the resources keeping the event loop alive, by type (`TCPSocketWrap`, `Timeout`, `ProcessWrap`…). */
export function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/**
 * What is open now beyond `before` ("TCPSocketWrap ×1"), after waiting up to `settleMs` for it to
 * close: a socket's handle closes a turn or two after close() resolves.
 */
export async function leakedSince(before: Map<string, number>, settleMs: number): Promise<string[]> {
  const deadline = performance.now() + settleMs;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    // Read after the timer's callback has returned: by then it no longer counts as open.
    const leaked = excess(before, activeResources());
    if (leaked.length === 0 || performance.now() >= deadline) return leaked;
  }
}

function excess(before: Map<string, number>, now: Map<string, number>): string[] {
  const leaked: string[] = [];
  for (const [type, count] of now) {
    const extra = count - (before.get(type) ?? 0);
    if (extra > 0) leaked.push(`${type} ×${extra}`);
  }
  return leaked;
}
