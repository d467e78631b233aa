/** Child process: `server-process.ts <system>` serves the echo and prints `listening <port>`. */
import { isSystemName, loadSystem } from './system.ts';

const name = process.argv[2] ?? '';
if (!isSystemName(name)) {
  console.error(`server-process: unknown system "${name}"`);
  process.exit(2);
}
const system = await loadSystem(name);
const server = await system.serve();
console.log(`listening ${server.port}`);
// The parent ends us by closing our stdin (or by dying, which closes it too).
process.stdin.resume();
process.stdin.on('end', () => void server.close().finally(() => process.exit(0)));
