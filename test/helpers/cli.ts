import { spawn } from 'node:child_process';

const bin = new URL('../../runtime/bin/corpc.js', import.meta.url).pathname;

/** Runs the real `corpc` command (runtime/bin/corpc.js) in a child process, to its end. */
export function corpc(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}
