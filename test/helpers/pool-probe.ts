/**
 * Child process for test/resolver-nonblocking.test.ts, run with UV_THREADPOOL_SIZE=2:
 * `pool-probe.ts <dns-server ip:port>`. Prints one line, `RESULT <json>`.
 *
 * Part 1: eight lookups hang at the DNS server (it never answers them). With corpc's resolver
 * they are UDP queries on the event loop, so file I/O and another lookup finish meanwhile.
 * Part 2: what a hanging `getaddrinfo` does instead: it holds a libuv pool thread until it
 * returns. Two blocking calls (opening FIFOs nobody writes to yet: the same thread-holding
 * behaviour, but under the test's control) fill the pool; `dns.lookup` and `fs` now wait,
 * while corpc's resolver still answers.
 */
import { execFileSync } from 'node:child_process';
import { lookup } from 'node:dns';
import { closeSync, constants, open, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Resolver } from 'corpc';

const server = process.argv[2]!;
const self = fileURLToPath(import.meta.url);
const resolver = new Resolver({ servers: [server], timeoutMs: 5000, tries: 1 });
const result: Record<string, unknown> = {};

// Part 1
let hangingSettled = 0;
Array.from({ length: 8 }, (_, i) =>
  resolver.resolve(`dns:///hang-${i}.test:1`).then(
    () => hangingSettled++,
    () => hangingSettled++,
  ),
);
await readFile(self);
result.fsWhileLookupsHang = { done: true, hangingSettled };
const other = await resolver.resolve('dns:///ok.test:1');
result.lookupWhileLookupsHang = { answer: other, hangingSettled };

// Part 2
const dir = await mkdtemp(join(tmpdir(), 'corpc-pool-'));
const fifos = [join(dir, 'a'), join(dir, 'b')];
execFileSync('mkfifo', fifos);
const holders = fifos.map(
  (fifo) => new Promise<number>((resolve, reject) => open(fifo, 'r', (e, fd) => (e ? reject(e) : resolve(fd)))),
);
await new Promise((resolve) => setTimeout(resolve, 50));
let lookupDone = false;
let fsDone = false;
const viaLookup = new Promise<string>((resolve, reject) =>
  lookup('localhost', { family: 4 }, (error, address) => {
    lookupDone = true;
    if (error) reject(error);
    else resolve(address);
  }),
);
const viaFs = stat(self).then(() => (fsDone = true));
const viaResolver = await resolver.resolve('dns:///ok2.test:1');
result.resolverWhilePoolFull = { answer: viaResolver, lookupDone, fsDone };
await new Promise((resolve) => setTimeout(resolve, 300));
result.afterMore300ms = { lookupDone, fsDone };
// Free the pool: open the write ends (non-blocking, from this thread) so the blocked opens return.
const writers = fifos.map((fifo) => openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
for (const fd of await Promise.all(holders)) closeSync(fd);
for (const fd of writers) closeSync(fd);
result.afterRelease = { lookup: await viaLookup, fs: await viaFs };
result.hangingSettledAtEnd = hangingSettled;
await rm(dir, { recursive: true });
console.log(`RESULT ${JSON.stringify(result)}`);
process.exit(0);
