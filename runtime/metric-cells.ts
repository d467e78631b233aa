import { Counter, type Registry } from 'prom-client';

/**
 * Per-call metrics that cost a few additions. prom-client's `labels(...).observe()` and `.inc()`
 * check and hash the label set on every call (its children only pre-bind the arguments); on the
 * request path of `corpc run` that was most of the runtime's per-request cost. Here each label
 * set gets a cell of plain numbers, written per call, and the registry reads the cells when it is
 * scraped: the series, their names, labels and values are what prom-client's own Histogram and
 * Counter would give.
 */

interface HistogramValue {
  labels: Record<string, string | number>;
  sharedLabels?: Readonly<Record<string, string>>;
  value: number;
  metricName: string;
}

interface HistogramExport {
  name: string;
  help: string;
  type: 'histogram';
  values: HistogramValue[];
  aggregator: 'sum';
}

/** One label set of a histogram: non-cumulative bucket counts (the last one is +Inf), sum, count. */
export class HistogramCell {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    private readonly bounds: readonly number[],
    readonly labels: Readonly<Record<string, string>>,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/** A histogram whose label sets are `HistogramCell`s; registered in a prom-client registry. */
export class CellHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly cells = new Map<string, HistogramCell>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    readonly bounds: readonly number[],
    registry: Registry,
  ) {
    // The registry only calls get() and reset(): what prom-client's own metrics offer it.
    registry.registerMetric(this as never);
  }

  /** The cell of one label set (made on first use, kept: hold on to it on the hot path). */
  cell(labels: Record<L, string>): HistogramCell {
    return cellOf(this.cells, this.labelNames, labels, (ordered) => new HistogramCell(this.bounds, ordered));
  }

  /** Every cell that has observed something. */
  observed(): HistogramCell[] {
    return [...this.cells.values()].filter((cell) => cell.count > 0);
  }

  /**
   * prom-client's Histogram.getForPromString() (what the registry formats as text): cumulative
   * `_bucket{le}` series, then `_sum` and `_count`, the cell's labels as `sharedLabels`.
   */
  async getForPromString(): Promise<HistogramExport> {
    const values: HistogramValue[] = [];
    const name = this.name;
    for (const cell of this.observed()) {
      const sharedLabels = cell.labels;
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += cell.counts[i]!;
        values.push({ labels: { le: bound }, sharedLabels, value: cumulative, metricName: `${name}_bucket` });
      });
      values.push(
        { labels: { le: '+Inf' }, sharedLabels, value: cell.count, metricName: `${name}_bucket` },
        { labels: {}, sharedLabels, value: cell.sum, metricName: `${name}_sum` },
        { labels: {}, sharedLabels, value: cell.count, metricName: `${name}_count` },
      );
    }
    return { name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** prom-client's Histogram.get() (the JSON the supervisor aggregates): the same, each value's labels in one object. */
  async get(): Promise<HistogramExport> {
    const data = await this.getForPromString();
    data.values = data.values.map(({ labels, sharedLabels, value, metricName }) => ({
      labels: { ...labels, ...sharedLabels },
      value,
      metricName,
    }));
    return data;
  }

  reset(): void {
    for (const cell of this.cells.values()) {
      cell.counts.fill(0);
      cell.sum = 0;
      cell.count = 0;
    }
  }
}

/** One label set of a counter. */
export interface CounterCell {
  readonly labels: Readonly<Record<string, string>>;
  value: number;
}

/** A prom-client Counter whose label sets are plain `CounterCell`s, read into it at each scrape. */
export class CellCounter<L extends string> {
  private readonly cells = new Map<string, CounterCell>();

  constructor(
    name: string,
    help: string,
    private readonly labelNames: readonly L[],
    registry: Registry,
  ) {
    const cells = this.cells;
    new Counter({
      name,
      help,
      labelNames: [...labelNames],
      registers: [registry],
      collect() {
        this.reset();
        for (const cell of cells.values()) if (cell.value > 0) this.inc(cell.labels as Record<L, string>, cell.value);
      },
    });
  }

  /** The cell of one label set (made on first use, kept). */
  cell(labels: Record<L, string>): CounterCell {
    return cellOf(this.cells, this.labelNames, labels, (ordered) => ({ labels: ordered, value: 0 }));
  }
}

/** The cell of `labels` in `cells`, made by `make` (given the labels in `labelNames` order) on first use. */
function cellOf<L extends string, C>(
  cells: Map<string, C>,
  labelNames: readonly L[],
  labels: Record<L, string>,
  make: (ordered: Record<string, string>) => C,
): C {
  const key = labelNames.map((name) => labels[name]).join('\u0000');
  let cell = cells.get(key);
  if (cell === undefined) {
    const ordered: Record<string, string> = {};
    for (const name of labelNames) ordered[name] = labels[name];
    cells.set(key, (cell = make(ordered)));
  }
  return cell;
}
