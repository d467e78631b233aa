/**
 * `npm run bench -- <scenario> [options]`: the benchmark harness. Each scenario is a module with
 * `main(argv)`, loaded only when asked for; scenarios written elsewhere plug in by file name.
 */
import { existsSync } from 'node:fs';
import { UsageError } from './args.ts';
import { machineHeader } from './machine.ts';
import { scenarioPath, scenarios } from './scenarios.ts';

function usage(): string {
  const width = Math.max(...Object.keys(scenarios).map((name) => name.length));
  const lines = Object.entries(scenarios).map(([name, s]) => {
    const missing = existsSync(scenarioPath(s)) ? '' : '  (not in this checkout)';
    return `  ${name.padEnd(width)}  ${s.summary}${missing}`;
  });
  return ['usage: npm run bench -- <scenario> [options]', '', 'scenarios:', ...lines].join('\n');
}

async function runScenario(name: string, argv: string[]): Promise<number> {
  const scenario = scenarios[name];
  if (scenario === undefined) {
    console.error(`bench: unknown scenario "${name}"\n\n${usage()}`);
    return 2;
  }
  const path = scenarioPath(scenario);
  if (!existsSync(path)) {
    console.error(`bench: scenario "${name}" is not available in this checkout (${scenario.file.slice(2)} is missing)`);
    return 2;
  }
  // main may return an exit code (surge); any other result (a report) means success.
  const module = (await import(path)) as { main?: (argv: string[]) => Promise<unknown> };
  if (typeof module.main !== 'function') {
    console.error(`bench: ${scenario.file.slice(2)} does not export main(argv)`);
    return 2;
  }
  if (process.env.CORPC_BENCH_NO_HEADER !== '1') console.log(`${machineHeader()}\n`);
  try {
    const code = await module.main(argv);
    return typeof code === 'number' ? code : 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
}

const [name, ...rest] = process.argv.slice(2);
if (name === undefined || name === '--help' || name === '-h') {
  (name === undefined ? console.error : console.log)(usage());
  process.exitCode = name === undefined ? 2 : 0;
} else {
  process.exitCode = await runScenario(name, rest);
}
