/**
 * `npx corpc <command>`: each command lives with the code it drives and is loaded only when used.
 */
const commands: Record<string, { summary: string; load: () => Promise<{ main(argv: string[]): Promise<number> }> }> = {
  gen: { summary: 'generate TypeScript from IDL (.proto) files', load: () => import('../codegen/cli.ts') },
  bench: { summary: 'load-test a method of a running service (closed/open loop, ramp)', load: () => import('./loadgen/cli.ts') },
  run: { summary: 'run a service module: supervisor, workers, HTTP entry, admin port', load: () => import('./run.ts') },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, command]) => `  ${name.padEnd(8)} ${command.summary}`);
  return ['usage: corpc <command> [options]', '', 'commands:', ...lines, '', 'corpc <command> --help for its options.'].join('\n');
}

const [name, ...rest] = process.argv.slice(2);
const command = name === undefined ? undefined : commands[name];
if (command === undefined) {
  const known = name === undefined || name === '--help' || name === '-h';
  (known ? console.log : console.error)(known ? usage() : `corpc: unknown command "${name}"\n\n${usage()}`);
  process.exitCode = known ? 0 : 2;
} else {
  const module = await command.load();
  process.exitCode = await module.main(rest);
}
