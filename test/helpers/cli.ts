import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const bin = new URL('../../runtime/bin/corpc.js', import.meta.url).pathname;

export interface CorpcResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `corpc` command (runtime/bin/corpc.js) in a child process, to its end; `input` is its stdin. */
export function corpc(args: string[], input?: string): Promise<CorpcResult> {
  return startCorpc(args, input).result;
}

/**
 * `corpc` started, for a command that prints as it goes (a stream): `line()` resolves with each
 * line of its stdout in turn as it is printed, `result` once the command has ended.
 */
export function startCorpc(
  args: string[],
  input?: string,
): { line(): Promise<string>; result: Promise<CorpcResult>; kill(): void } {
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (input !== undefined) child.stdin!.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const result = new Promise<CorpcResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    async line() {
      const next = await lines.next();
      if (next.done === true) throw new Error(`corpc ${args.join(' ')} ended before printing a line:\n${stderr}`);
      return next.value;
    },
    result,
    kill: () => child.kill('SIGKILL'),
  };
}
