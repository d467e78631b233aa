/**
 * `npm run bench -- resolver` (or on its own: `node --conditions=corpc-source --import tsx bench/resolver.ts`):
 * cached lookups per second through corpc's Resolver, and calls per second through a client
 * bound to `dns:///name:port` against one bound to `tcp://127.0.0.1:port` (same server, same load).
 * Options: --seconds N (per measured run, default 2), --inflight N (default 64), --quick (1 s runs).
 */
import { pathToFileURL } from 'node:url';
import { createClient, createServer, Resolver } from 'corpc';
import { Echo, echoHandlers } from '../services/echo/echo.ts';
import { DnsServer } from '../test/helpers/dns-server.ts';
import { parseScenarioArgs, numberOption } from './args.ts';

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const { values } = parseScenarioArgs(
    'resolver',
    {
      args: argv,
      strict: true,
      options: {
        seconds: { type: 'string', default: '2' },
        inflight: { type: 'string', default: '64' },
        quick: { type: 'boolean', default: false },
      },
    },
    'options: --seconds N, --inflight N, --quick (1 s runs)',
  );
  const seconds = values.quick ? 1 : numberOption('--seconds', values.seconds, { exclusiveMin: true });
  const inflight = numberOption('--inflight', values.inflight, { integer: true, min: 1 });
  console.log(`resolver bench: Node ${process.version}, ${seconds} s per run, ${inflight} calls in flight`);

  const dns = await DnsServer.start({ 'echo.bench.test': { A: ['127.0.0.1'], ttl: 3600 } });
  const resolver = new Resolver({ servers: [dns.address] });
  // Client and server share this process, so the server would read the client's CPU as its own
  // event-loop delay and shed: this bench measures name resolution, not overload control.
  const server = createServer({ admission: { policy: 'none' } }).addService(Echo, echoHandlers());
  const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
  try {
    // Cached lookups: resolve() (promise) and lookup() (callback, as net.connect uses it).
    await resolver.resolve(`dns:///echo.bench.test:${port}`);
    const resolves = await rate(seconds, async () => {
      for (let i = 0; i < 1000; i++) await resolver.resolve(`dns:///echo.bench.test:${port}`);
      return 1000;
    });
    console.log(`cached resolve():  ${fmt(resolves)} lookups/s`);
    const lookups = await rate(
      seconds,
      () =>
        new Promise<number>((done) => {
          let left = 1000;
          const next = (): void => resolver.lookup('echo.bench.test', {}, () => (--left === 0 ? done(1000) : next()));
          next();
        }),
    );
    console.log(`cached lookup():   ${fmt(lookups)} lookups/s`);
    console.log(`DNS queries sent:  ${resolver.stats().queriesSent} (the rest were cache hits)`);

    // Calls: the same Echo server through a tcp:// and a dns:/// client, alternated twice.
    const results: Record<string, number[]> = { tcp: [], dns: [] };
    for (let round = 0; round < 2; round++) {
      for (const kind of ['tcp', 'dns'] as const) {
        const target = kind === 'tcp' ? `tcp://127.0.0.1:${port}` : `dns:///echo.bench.test:${port}`;
        const client = createClient(Echo, target, { resolver, timeoutMs: 10_000 });
        await client.echo({ text: 'warm' });
        results[kind]!.push(await callRate(seconds / 2, inflight, () => client.echo({ text: 'x'.repeat(32) })));
        await client.close();
      }
    }
    const tcp = Math.max(...results.tcp!);
    const viaDns = Math.max(...results.dns!);
    console.log(`calls, tcp:// client:  ${fmt(tcp)} calls/s (runs: ${results.tcp!.map(fmt).join(', ')})`);
    console.log(`calls, dns:/// client: ${fmt(viaDns)} calls/s (runs: ${results.dns!.map(fmt).join(', ')})`);
    console.log(
      `dns:/// vs tcp://: ${((viaDns / tcp - 1) * 100).toFixed(1)} % (best run of each; on a shared machine compare several runs)`,
    );
  } finally {
    await server.close();
    await dns.close();
  }
}

async function rate(seconds: number, batch: () => Promise<number>): Promise<number> {
  const started = performance.now();
  let done = 0;
  while (performance.now() - started < seconds * 1000) done += await batch();
  return done / ((performance.now() - started) / 1000);
}

async function callRate(seconds: number, inflight: number, call: () => Promise<unknown>): Promise<number> {
  const stopAt = performance.now() + seconds * 1000;
  const started = performance.now();
  let done = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < stopAt) {
      await call();
      done++;
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  return done / ((performance.now() - started) / 1000);
}

function fmt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
