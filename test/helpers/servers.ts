import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createServer, type Server, type ServerOptions, type ServiceDescriptor, type ServiceHandlers } from 'corpc';

export interface Running {
  server: Server;
  target: string;
  port: number;
}

/** A server with one service, listening on a free loopback port. */
export async function serve<S extends ServiceDescriptor>(
  service: S,
  handlers: ServiceHandlers<S>,
  options?: ServerOptions,
): Promise<Running> {
  const server = createServer(options).addService(service, handlers);
  const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
  return { server, target: `127.0.0.1:${port}`, port };
}

/** Runs a TypeScript file in a child process with the same loader as the tests. */
export function spawnTs(file: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ['--conditions=corpc-source', '--import', 'tsx', file, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** Waits for a line of the child's stdout that matches, and returns the match. */
export async function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
  const lines = createInterface({ input: child.stdout! });
  const timer = setTimeout(() => lines.close(), timeoutMs);
  try {
    for await (const line of lines) {
      const match = pattern.exec(line);
      if (match !== null) return match;
    }
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`child process did not print ${pattern} within ${timeoutMs} ms`);
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await once(child, 'exit');
}

/** Rejections are the point of many tests: returns the error a promise rejects with. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
