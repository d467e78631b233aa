/**
 * `node client-process.ts <system> <target> <size> <streams> <warmupMs> <durationMs>`: opens
 * `streams` streams of `size`-byte messages on one connection and prints what arrived during the
 * measured window as JSON: `{ messages, bytes, seconds }`.
 */
import { connect, type StreamSystemName } from './systems.ts';

const [system, target, size, streams, warmupMs, durationMs] = process.argv.slice(2) as [
  StreamSystemName,
  string,
  string,
  string,
  string,
  string,
];
const client = connect(system, target);
let messages = 0;
let bytes = 0;
const watches = Array.from({ length: Number(streams) }, () =>
  client.watch(Number(size), (length) => {
    messages++;
    bytes += length;
  }),
);
await new Promise((resolve) => setTimeout(resolve, Number(warmupMs)));
const start = performance.now();
const [messagesBefore, bytesBefore] = [messages, bytes];
await new Promise((resolve) => setTimeout(resolve, Number(durationMs)));
const seconds = (performance.now() - start) / 1000;
const result = { messages: messages - messagesBefore, bytes: bytes - bytesBefore, seconds };
for (const watch of watches) watch.stop();
await Promise.race([
  Promise.all(watches.map((watch) => watch.done)),
  new Promise((resolve) => setTimeout(resolve, 2000)),
]);
console.log(JSON.stringify(result));
await client.close();
process.exit(0);
