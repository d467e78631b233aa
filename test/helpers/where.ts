import { context, createServer, defineService, method, type Server } from 'corpc';

/** A service that says which server answered and over which connection (the caller's address). */
export const Where = defineService('Where', {
  whoami: method<Record<string, never>, { server: string; caller: string }>(),
  sleep: method<{ ms: number }, { server: string }>(),
});

export interface Tagged {
  server: Server;
  tag: string;
  host: string;
  port: number;
  /** Calls to `sleep` that reached the handler. */
  sleeping: { count: number };
}

/** A Where server named `tag`, on `host` (a loopback address) and `port` (0: any free one). */
export async function serveWhere(tag: string, host = '127.0.0.1', port = 0): Promise<Tagged> {
  const sleeping = { count: 0 };
  const server = createServer().addService(Where, {
    async whoami() {
      return { server: tag, caller: context().caller };
    },
    async sleep({ ms }) {
      sleeping.count++;
      await new Promise((resolve) => setTimeout(resolve, ms));
      return { server: tag };
    },
  });
  const address = await server.listen({ port, host });
  return { server, tag, host, port: address.port, sleeping };
}

/** Two Where servers on one port: `a` on 127.0.0.1 and `b` on 127.0.0.2 (as DNS A records would give). */
export async function serveWherePair(): Promise<[Tagged, Tagged]> {
  for (let attempt = 0; ; attempt++) {
    const a = await serveWhere('a', '127.0.0.1');
    try {
      return [a, await serveWhere('b', '127.0.0.2', a.port)];
    } catch (error) {
      await a.server.close();
      if (attempt === 5) throw error;
    }
  }
}
