import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

/** CPUs the echo server and its load generator are pinned to, when `taskset` can pin them. */
export interface Pinning {
  server: string;
  client: string;
}

let pinning: Pinning | null | undefined;

/** Server on CPU 0, client on CPU 1 — when there are two CPUs and `taskset` works here. */
export function cpuPinning(): Pinning | null {
  if (pinning !== undefined) return pinning;
  const works = cpus().length >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  pinning = works ? { server: '0', client: '1' } : null;
  return pinning;
}

/** The lines every report starts with: what ran, where, when. */
export function machineHeader(): string {
  const cpu = cpus();
  const pinned = cpuPinning();
  return [
    `node ${process.version} (${process.platform} ${process.arch}, V8 ${process.versions.v8})`,
    `cpu: ${cpu[0]?.model.trim() ?? 'unknown'} × ${cpu.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`,
    `date: ${new Date().toISOString()}`,
    pinned === null
      ? 'pinning: none (taskset unavailable or a single CPU): client and server share the CPUs'
      : `pinning: server on CPU ${pinned.server}, load generator on CPU ${pinned.client} (taskset)`,
  ].join('\n');
}
