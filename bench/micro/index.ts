/**
 * `npm run bench -- micro [name…]`: every file in bench/micro that exports `main()` returning its
 * results (one file per hot function), printed as ns/op. Read with the macro figures: at
 * ~200,000 req/s a request has ~5,000 ns of CPU on each side, so each line is a share of that.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { print, type MicroResult } from './measure.ts';

const here = fileURLToPath(new URL('.', import.meta.url));

export async function main(argv: string[]): Promise<void> {
  const files = readdirSync(here)
    .filter((file) => file.endsWith('.ts') && file !== 'index.ts' && file !== 'measure.ts')
    .sort();
  const wanted = argv.filter((a) => !a.startsWith('--'));
  for (const file of files) {
    if (wanted.length > 0 && !wanted.some((name) => file.startsWith(name))) continue;
    const module = (await import(new URL(file, import.meta.url).href)) as { main?: () => Promise<MicroResult[]> };
    if (typeof module.main !== 'function') continue;
    console.log(`${file}:`);
    print(await module.main());
  }
}
