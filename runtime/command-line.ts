import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closestName } from 'corpc/internal';

/**
 * The commands' flag parsing: node:util's parseArgs, with its errors said the way corpc says a
 * misspelt config key: `unknown option "--wokers" (did you mean "--workers"?)`.
 */

/** A command line that cannot run; the message names the problem (printed with a pointer to --help, exit code 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseCommandLine<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    const unknown = /^Unknown option '([^']+)'/.exec((error as Error).message)?.[1];
    if (unknown === undefined) throw new UsageError((error as Error).message);
    const names = Object.keys(config.options ?? {});
    const near = unknown.startsWith('--') ? closestName(unknown.slice(2), names) : undefined;
    throw new UsageError(`unknown option "${unknown}"${near === undefined ? '' : ` (did you mean "--${near}"?)`}`);
  }
}

/**
 * The request body of `--data`: JSON text, `@FILE` (the file's JSON), or `-` (JSON read from
 * stdin); `{}` when not given.
 */
export function readData(data: string | undefined): unknown {
  if (data === undefined) return {};
  let text = data;
  let where = '--data';
  if (data === '-' || data.startsWith('@')) {
    where = data === '-' ? '--data - (stdin)' : `--data ${data}`;
    try {
      text = readFileSync(data === '-' ? 0 : data.slice(1), 'utf8');
    } catch (error) {
      throw new UsageError(
        `${where}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${where} is not valid JSON: ${(error as Error).message}`);
  }
}
