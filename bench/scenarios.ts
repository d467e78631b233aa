/** The scenarios of `npm run bench`, by name; each file exports `main(argv)`. */
import { fileURLToPath } from 'node:url';

export interface Scenario {
  summary: string;
  /** Relative to this file. */
  file: string;
  /** Part of `all` (run there with --quick). */
  inAll: boolean;
  /** The runs `all` makes, by their extra arguments (default: one run with none). */
  allRuns?: readonly (readonly string[])[];
}

export const scenarios: Record<string, Scenario> = {
  echo: {
    summary: 'corpc, and corpc under `corpc run`, vs the bare msgpack-over-TCP ceiling, 1..1024 in flight',
    file: './echo.ts',
    inAll: true,
    // On this node, and on a second one named by CORPC_BENCH_ALSO_NODE (RESULTS.md has Node 20 and 24).
    allRuns: [[], ...(process.env.CORPC_BENCH_ALSO_NODE ? [['--node', process.env.CORPC_BENCH_ALSO_NODE]] : [])],
  },
  compare: {
    summary: 'corpc vs grpc-js, Connect-ES, Moleculer, Tars, node:http2 and bare on the same echo',
    file: './compare.ts',
    inAll: true,
  },
  stream: {
    summary: 'server streams: msg/s and bytes/s, corpc vs grpc-js; heap under a slow consumer',
    file: './stream.ts',
    inAll: true,
  },
  micro: { summary: 'ns/op of the hot functions (bench/micro/*.ts)', file: './micro/index.ts', inAll: true },
  resolver: {
    summary: 'DNS resolver: lookups, caching and re-resolution under load',
    file: './resolver.ts',
    inAll: true,
  },
  overload: {
    summary: 'overload control: goodput and latency past saturation (--cpu: a CPU-bound worker)',
    file: './overload/overload.ts',
    inAll: true,
    allRuns: [[], ['--cpu']],
  },
  fairness: { summary: 'overload control: fairness between priorities', file: './overload/fairness.ts', inAll: true },
  spike: { summary: 'overload control: a sudden load spike', file: './overload/spike.ts', inAll: true },
  'cpu-spike': {
    summary: 'overload control of a CPU-bound worker: 0.8x → 2x → 4x → 10x → 0.8x',
    file: './overload/cpu-spike.ts',
    inAll: true,
  },
  surge: { summary: 'a surge across a multi-tier service', file: './surge.ts', inAll: true, allRuns: [['--start']] },
  fuzz: {
    summary: 'hostile connections against a live server for --seconds N; reports executions and findings',
    file: './fuzz.ts',
    inAll: false,
  },
  soak: {
    summary: '10x overload for --seconds N: goodput, server RSS over time, accounting by status',
    file: './soak.ts',
    inAll: false,
  },
  all: {
    summary: 'every scenario above, in turn (add --quick; --results FILE writes RESULTS.md)',
    file: './all.ts',
    inAll: false,
  },
};

export function scenarioPath(scenario: Scenario): string {
  return fileURLToPath(new URL(scenario.file, import.meta.url));
}
