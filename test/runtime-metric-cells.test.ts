import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { CellCounter, CellHistogram } from '../runtime/metric-cells.ts';

const BOUNDS = [0.001, 0.01, 0.1, 1];
const OBSERVED: [string, string, number][] = [
  ['echo', 'Echo/echo', 0.0004],
  ['echo', 'Echo/echo', 0.001], // on a bound: counted in that bucket, as prom-client does
  ['echo', 'Echo/echo', 0.05],
  ['echo', 'Echo/relay', 2.5], // above every bound: only in +Inf
  ['kv', 'Kv/get', 0.2],
];

/** The same observations in a prom-client Histogram/Counter and in the cells, each in its own registry. */
function registries(): { cells: Registry; prom: Registry } {
  const cells = new Registry();
  const prom = new Registry();
  for (const registry of [cells, prom]) registry.setDefaultLabels({ worker: '1' });
  const histogram = new CellHistogram('t_seconds', 'Time', ['unit', 'method'], BOUNDS, cells);
  const counter = new CellCounter('t_total', 'Calls', ['unit', 'method', 'code'], cells);
  const promHistogram = new Histogram({
    name: 't_seconds',
    help: 'Time',
    labelNames: ['unit', 'method'],
    buckets: BOUNDS,
    registers: [prom],
  });
  const promCounter = new Counter({
    name: 't_total',
    help: 'Calls',
    labelNames: ['unit', 'method', 'code'],
    registers: [prom],
  });
  for (const [unit, method, seconds] of OBSERVED) {
    histogram.cell({ unit, method }).observe(seconds);
    counter.cell({ unit, method, code: 'OK' }).value++;
    promHistogram.observe({ unit, method }, seconds);
    promCounter.inc({ unit, method, code: 'OK' });
  }
  return { cells, prom };
}

test('cells give the /metrics text of prom-client Histogram and Counter: names, labels, cumulative buckets, sum, count', async () => {
  const { cells, prom } = registries();
  const text = await cells.metrics();
  assert.is(text, await prom.metrics());
  assert.match(text, /t_seconds_bucket\{le="0.001",worker="1",unit="echo",method="Echo\/echo"\} 2/);
  assert.match(text, /t_seconds_bucket\{le="\+Inf",worker="1",unit="echo",method="Echo\/relay"\} 1/);
  assert.match(text, /t_total\{unit="kv",method="Kv\/get",code="OK",worker="1"\} 1/);
});

test("cells aggregate across workers as prom-client's metrics do (the supervisor's /metrics)", async () => {
  const a = registries();
  const b = registries();
  const fromCells = AggregatorRegistry.aggregate([await a.cells.getMetricsAsJSON(), await b.cells.getMetricsAsJSON()]);
  const fromProm = AggregatorRegistry.aggregate([await a.prom.getMetricsAsJSON(), await b.prom.getMetricsAsJSON()]);
  assert.is(await fromCells.metrics(), await fromProm.metrics());
  assert.match(await fromCells.metrics(), /t_seconds_count\{unit="echo",method="Echo\/echo",worker="1"\} 6/);
});

test('a cell is one per label set, whatever the order the labels are given in; unobserved sets are not exported', async () => {
  const registry = new Registry();
  const histogram = new CellHistogram('u_seconds', 'Time', ['unit', 'method'], BOUNDS, registry);
  assert.is(histogram.cell({ unit: 'a', method: 'M' }), histogram.cell({ method: 'M', unit: 'a' }));
  histogram.cell({ unit: 'b', method: 'M' });
  assert.is(await registry.metrics(), '# HELP u_seconds Time\n# TYPE u_seconds histogram\n');
  histogram.cell({ unit: 'a', method: 'M' }).observe(0.5);
  assert.is(histogram.observed().length, 1);
  registry.resetMetrics();
  assert.is(histogram.observed().length, 0);
});

test.run();
