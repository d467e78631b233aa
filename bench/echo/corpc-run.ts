import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { corpcSystem } from './corpc.ts';
import type { EchoSystem } from './system.ts';

/**
 * The same Echo as a user runs it: `corpc run services/echo --workers 1` (the `corpc` command,
 * its supervisor and one worker), with the runtime's metrics (prom-client, admission windows,
 * dashboard snapshots) and its logs (pino, level info) on, as they are by default. The client is
 * corpc's, as for `corpc`.
 */

const bin = fileURLToPath(new URL('../../runtime/bin/corpc.js', import.meta.url));
const service = fileURLToPath(new URL('../../services/echo', import.meta.url));

export const corpcRunSystem: EchoSystem = {
  name: 'corpc-run',
  async serve() {
    const args = [bin, 'run', service, '--workers', '1', '--port', '0', '--admin-port', '0', '--http-port', '0'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    // The banner names the unit's port: `  unit echo         127.0.0.1:40123`. Later lines (the
    // logs) are read and dropped, as a terminal or a log shipper would take them.
    const lines = createInterface({ input: child.stdout });
    const port = await new Promise<number>((resolve, reject) => {
      lines.on('line', (line) => {
        const match = /^\s+unit echo\s+\S+:(\d+)/.exec(line);
        if (match !== null) resolve(Number(match[1]));
      });
      child.on('exit', (code) => reject(new Error(`corpc run exited (${code}) before it was ready`)));
    });
    return {
      port,
      close: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      },
    };
  },
  connect: (target, connections) => corpcSystem.connect(target, connections),
};
