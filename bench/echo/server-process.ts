/**
 * Child process: `server-process.ts <system>` serves the echo and prints `listening <port>`. Each
 * line `cpu` on its stdin is answered with `cpu <µs>`: the CPU time this process and the ones it
 * started (cpu.ts) spent so far, so that the runner can tell each run's server CPU per request.
 */
import { createInterface } from 'node:readline';
import { processTreeCpuMicros } from './cpu.ts';
import { isSystemName, loadSystem } from './system.ts';

const name = process.argv[2] ?? '';
if (!isSystemName(name)) {
  console.error(`server-process: unknown system "${name}"`);
  process.exit(2);
}
const system = await loadSystem(name);
const server = await system.serve();
console.log(`listening ${server.port}`);
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line === 'cpu') console.log(`cpu ${processTreeCpuMicros()}`);
});
// The parent ends us by closing our stdin (or by dying, which closes it too).
lines.on('close', () => void server.close().finally(() => process.exit(0)));
