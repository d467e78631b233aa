import { writeFileSync } from 'node:fs';
import type { ParseArgsConfig, parseArgs } from 'node:util';

import { UsageError, parseCommandLine } from '../runtime/command-line.ts';
import { numberOption } from '../runtime/loadgen/options.ts';

/** Scenarios check their flags as `corpc bench` does: a bad value is a UsageError naming the flag. */
export { UsageError, numberOption };

/**
 * A scenario's flags, parsed as `corpc bench` parses its own (a misspelt flag gets the nearest
 * name); a bad command line is a UsageError that names the scenario and ends with its `usage`.
 */
export function parseScenarioArgs<T extends ParseArgsConfig>(
  scenario: string,
  config: T,
  usage: string,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseCommandLine(config);
  } catch (error) {
    throw new UsageError(`bench ${scenario}: ${(error as Error).message}\n${usage}`);
  }
}

export interface EchoArgs {
  quick: boolean;
  json: string | undefined;
  connections: number;
  inflights: number[];
  rounds: number;
  warmupMs: number;
  durationMs: number;
  /** The node binary the servers and load generators run on (default: this one). */
  node: string;
  /** Also run corpc with one no-op interceptor on each side (`echo --interceptor`). */
  interceptor: boolean;
}

const ECHO_USAGE = `options:
  --quick              short runs (echo < 60 s, compare < 3 min)
  --json FILE          write the figures as JSON
  --connections N      connections per client, the same for every system (default 1)
  --inflight LIST      in-flight levels (default 1,16,128,1024)
  --rounds N           alternating runs per level; the median is reported (default 3, quick 1)
  --duration S         seconds measured per run (default 5, quick 3), after a warm-up
  --node BIN           run the servers and load generators on this node binary (default: this node)
  --interceptor        echo: also corpc with one no-op client and server interceptor`;

/** The options shared by the echo-style scenarios (`echo`, `compare`). */
export function parseEchoArgs(scenario: string, argv: string[]): EchoArgs {
  const { values } = parseScenarioArgs(
    scenario,
    {
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: 'boolean', default: false },
        json: { type: 'string' },
        connections: { type: 'string', default: '1' },
        inflight: { type: 'string', default: '1,16,128,1024' },
        rounds: { type: 'string' },
        duration: { type: 'string' },
        node: { type: 'string' },
        interceptor: { type: 'boolean', default: false },
      },
    },
    ECHO_USAGE,
  );
  const quick = values.quick;
  const count = { integer: true, min: 1 };
  try {
    return {
      quick,
      json: values.json,
      connections: numberOption('--connections', values.connections, count),
      inflights: values.inflight.split(',').map((part) => numberOption('--inflight', part, count)),
      rounds: numberOption('--rounds', values.rounds ?? (quick ? '1' : '3'), count),
      warmupMs: quick ? 1000 : 2000,
      durationMs: 1000 * numberOption('--duration', values.duration ?? (quick ? '3' : '5'), { exclusiveMin: true }),
      node: values.node ?? process.execPath,
      interceptor: values.interceptor,
    };
  } catch (error) {
    throw new UsageError(`bench ${scenario}: ${(error as Error).message}`);
  }
}

export function writeJson(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  console.log(`wrote ${file}`);
}
