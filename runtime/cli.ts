/**
 * `npx corpc <command>`: each command lives with the code it drives and is loaded only when used.
 */
const commands: Record<string, { summary: string; load: () => Promise<{ main(argv: string[]): Promise<number> }> }> = {
  gen: { summary: 'generate TypeScript from IDL (.proto) files', load: () => import('../codegen/cli.ts') },
  bench: {
    summary: 'load-test a method of a running service (closed/open loop, ramp)',
    load: () => import('./loadgen/cli.ts'),
  },
  run: { summary: 'run a service module: supervisor, workers, HTTP entry, admin port', load: () => import('./run.ts') },
  list: {
    summary: "list a running server's services, methods and message schemas (reflection)",
    load: () => import('./list.ts'),
  },
  call: { summary: 'call a method of a running server, JSON in and out', load: () => import('./call.ts') },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, command]) => `  ${name.padEnd(8)} ${command.summary}`);
  return [
    'usage: corpc <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    'corpc <command> --help for its options.',
  ].join('\n');
}

const [name, ...rest] = process.argv.slice(2);
const command = name === undefined ? undefined : commands[name];
if (command === undefined) {
  // `corpc --help` asked for the usage; `corpc` alone and `corpc frobnicate` did not name a command.
  const help = name === '--help' || name === '-h';
  const problem = name === undefined ? 'name a command' : `unknown command "${name}"`;
  (help ? console.log : console.error)(help ? usage() : `corpc: ${problem}\n\n${usage()}`);
  process.exitCode = help ? 0 : 2;
} else {
  const module = await command.load();
  process.exitCode = await module.main(rest);
}
