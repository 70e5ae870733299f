// Counters, gauges, histograms and time series. A metric is registered once, at
// registration or boot, and returns a handle whose update is a typed-array store,
// cheap enough for hot paths (`counter.add(1)` is one Float64Array increment). Every
// metric has a unit and a description, which go into metrics.json beside its value.
//
// Metric names are dotted and start with the subsystem or plugin area
// (`dc.vms.running`, `mmu.walk.references`). The registry keeps them sorted when it
// writes results, so metrics.json is byte-identical for the same scenario and seed.

export type MetricKind = 'counter' | 'gauge' | 'histogram';

export interface MetricInfo {
  readonly name: string;
  readonly kind: MetricKind;
  readonly unit: string;
  readonly description: string;
  /** Plugin id (or 'core') that registered it. */
  readonly owner: string;
}

/** A monotonically increasing count. */
export class Counter {
  readonly cell = new Float64Array(1);
  constructor(readonly info: MetricInfo) {}
  add(n = 1): void {
    this.cell[0] += n;
  }
  get value(): number {
    return this.cell[0];
  }
}

/** A value that is set, such as a current level or a final result. */
export class Gauge {
  readonly cell = new Float64Array(1);
  constructor(readonly info: MetricInfo) {}
  set(v: number): void {
    this.cell[0] = v;
  }
  get value(): number {
    return this.cell[0];
  }
}

/**
 * The highest value a quantity took: `observe` is called whenever the quantity changes,
 * the metric's value (metrics.json, expectations) is the maximum over the whole run,
 * and each time-series row holds the maximum since the previous row — so a series
 * named `….max` reports maxima, not the level at the sampling instant.
 */
export class Peak {
  /** run maximum, maximum since the last series row, current level */
  readonly cell = new Float64Array(3);
  constructor(readonly info: MetricInfo) {}
  observe(v: number): void {
    const c = this.cell;
    c[2] = v;
    if (v > c[0]) c[0] = v;
    if (v > c[1]) c[1] = v;
  }
  get value(): number {
    return this.cell[0];
  }
  /** The maximum since the last call; the next window starts at the current level. */
  takeWindow(): number {
    const w = this.cell[1];
    this.cell[1] = this.cell[2];
    return w;
  }
}

export interface HistogramOptions {
  /**
   * 'log2': bucket k holds values in [2^(k-1), 2^k), bucket 0 holds values below 1;
   * 'exact': bucket k holds the integer k, for small integer quantities such as
   * memory references per walk, with a last bucket for everything ≥ max.
   */
  readonly buckets?: 'log2' | 'exact';
  /** Number of exact buckets (default 64). */
  readonly max?: number;
}

/**
 * Most values a histogram keeps for its quantiles. Up to this many recordings (the
 * metrics of migrations: one per migration) the quantiles are exact; beyond it the
 * values are dropped and the quantiles come from the buckets, and metrics.json says
 * so with their error bound.
 */
export const EXACT_QUANTILE_LIMIT = 1 << 20;

/**
 * A distribution: count, sum, min, max, bucket counts, and the recorded values
 * themselves while there are few enough of them for exact quantiles.
 *
 * The quantiles are exact because the bucket midpoint is not a quantile: with log2
 * buckets a set of migrations that all took about 28.8 s falls into [16.4 s, 32.8 s),
 * whose midpoint (24.6 s) clamped to the minimum put the p99 below the mean.
 */
export class Histogram {
  readonly counts: Float64Array;
  /** count, sum, min, max */
  readonly stats = new Float64Array([0, 0, Infinity, -Infinity]);
  readonly exact: boolean;
  /** Recorded values and their weights (the `times` of record), in recording order; dropped past EXACT_QUANTILE_LIMIT. */
  private values: Float64Array | undefined = new Float64Array(16);
  private weights: Float64Array | undefined = new Float64Array(16);
  private recorded = 0;
  /** Indices of the kept values in ascending order, until the next record (series may ask for a quantile every sample). */
  private order: number[] | undefined;

  constructor(
    readonly info: MetricInfo,
    options: HistogramOptions = {},
  ) {
    this.exact = options.buckets === 'exact';
    this.counts = new Float64Array(this.exact ? (options.max ?? 64) + 1 : 66);
  }

  record(v: number, times = 1): void {
    const s = this.stats;
    s[0] += times;
    s[1] += v * times;
    if (v < s[2]) s[2] = v;
    if (v > s[3]) s[3] = v;
    let b: number;
    if (this.exact) {
      const last = this.counts.length - 1;
      b = v < 0 ? 0 : v >= last ? last : Math.floor(v);
    } else if (v < 1) b = 0;
    else if (v < 4294967296) b = 32 - Math.clz32(v);
    else b = Math.min(65, Math.floor(Math.log2(v)) + 1);
    this.counts[b] += times;
    this.keep(v, times);
  }

  private keep(v: number, times: number): void {
    if (!this.values || !this.weights) return;
    if (this.recorded === EXACT_QUANTILE_LIMIT) {
      this.values = this.weights = this.order = undefined;
      return;
    }
    if (this.recorded === this.values.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.values = grow(this.values);
      this.weights = grow(this.weights);
    }
    this.values[this.recorded] = v;
    this.weights[this.recorded] = times;
    this.recorded++;
    this.order = undefined;
  }

  get count(): number {
    return this.stats[0];
  }
  get mean(): number {
    return this.stats[0] ? this.stats[1] / this.stats[0] : 0;
  }

  /** Whether quantile() is exact: every recorded value is kept, or the buckets hold integers one by one. */
  get quantilesExact(): boolean {
    return this.values !== undefined || (this.exact && this.stats[3] < this.counts.length - 1);
  }

  /** Lower and upper bound of bucket b. */
  bounds(b: number): [number, number] {
    if (this.exact) return b === this.counts.length - 1 ? [b, Infinity] : [b, b + 1];
    return b === 0 ? [0, 1] : [2 ** (b - 1), 2 ** b];
  }

  /**
   * The q-quantile by the nearest-rank rule: the smallest recorded value v such
   * that at least q of the weight lies at or below v (so p50 of 1, 2, 3, 4 is 2 and
   * the maximum is the 1-quantile). Exact while the values are kept; past
   * EXACT_QUANTILE_LIMIT recordings, the geometric midpoint of the bucket that holds
   * that rank, clamped to [min, max]: within a factor of √2 for log2 buckets.
   */
  quantile(q: number): number {
    const total = this.stats[0];
    if (!total) return 0;
    const target = Math.max(q * total, Number.MIN_VALUE);
    if (this.values && this.weights) {
      const values = this.values;
      const order = (this.order ??= Array.from({ length: this.recorded }, (_, i) => i).sort((a, b) => values[a] - values[b] || a - b));
      let acc = 0;
      for (const i of order) {
        acc += this.weights[i];
        // A relative tolerance, so that q·total computed in floating point does not skip a rank.
        if (acc >= target * (1 - 1e-12)) return this.values[i];
      }
      return this.stats[3];
    }
    let acc = 0;
    for (let b = 0; b < this.counts.length; b++) {
      acc += this.counts[b];
      if (acc >= target && this.counts[b] > 0) {
        const [lo, hi] = this.bounds(b);
        if (this.exact) return lo;
        const mid = b === 0 ? 0.5 : Number.isFinite(hi) ? Math.sqrt(lo * hi) : lo;
        return Math.min(this.stats[3], Math.max(this.stats[2], mid));
      }
    }
    return this.stats[3];
  }

  /** The kept values and weights, for snapshots (empty once they were dropped). */
  keptValues(): number[] {
    if (!this.values || !this.weights) return [-1];
    const out = [this.recorded];
    for (let i = 0; i < this.recorded; i++) out.push(this.values[i], this.weights[i]);
    return out;
  }

  /** Restores what keptValues() returned. */
  restoreKept(a: readonly number[]): void {
    this.order = undefined;
    if (!a.length || a[0] < 0) {
      this.values = this.weights = undefined;
      this.recorded = 0;
      return;
    }
    const n = a[0];
    let cap = 16;
    while (cap < n) cap *= 2;
    this.values = new Float64Array(cap);
    this.weights = new Float64Array(cap);
    for (let i = 0; i < n; i++) {
      this.values[i] = a[1 + 2 * i];
      this.weights[i] = a[2 + 2 * i];
    }
    this.recorded = n;
    this.order = undefined;
  }
}

export class MetricError extends Error {}

type AnyMetric = Counter | Gauge | Peak | Histogram;

export interface MetricsSnapshot {
  cells: Record<string, number[]>;
  series: { times: number[]; columns: number[][] };
}

export class Metrics {
  private readonly byName = new Map<string, AnyMetric>();
  private seriesNames: string[] = [];
  private seriesReaders: Array<() => number> = [];
  private seriesTimes: number[] = [];
  private seriesColumns: number[][] = [];

  counter(name: string, unit: string, description: string, owner = 'core'): Counter {
    return this.register(name, 'counter', unit, description, owner, (info) => new Counter(info)) as Counter;
  }

  gauge(name: string, unit: string, description: string, owner = 'core'): Gauge {
    return this.register(name, 'gauge', unit, description, owner, (info) => new Gauge(info)) as Gauge;
  }

  /** A maximum over time (see Peak); written as a gauge in metrics.json. */
  peak(name: string, unit: string, description: string, owner = 'core'): Peak {
    const m = this.register(name, 'gauge', unit, description, owner, (info) => new Peak(info));
    if (!(m instanceof Peak)) throw new MetricError(`metric '${name}' is registered as a plain gauge by ${m.info.owner}; ${owner} asks for a peak`);
    return m;
  }

  histogram(name: string, unit: string, description: string, options: HistogramOptions = {}, owner = 'core'): Histogram {
    return this.register(name, 'histogram', unit, description, owner, (info) => new Histogram(info, options)) as Histogram;
  }

  private register(
    name: string,
    kind: MetricKind,
    unit: string,
    description: string,
    owner: string,
    make: (info: MetricInfo) => AnyMetric,
  ): AnyMetric {
    if (!/^[a-z0-9][a-z0-9_.-]*$/.test(name)) throw new MetricError(`metric name '${name}' must be lower-case and dotted`);
    const existing = this.byName.get(name);
    if (existing) {
      if (existing.info.kind !== kind || existing.info.unit !== unit) {
        throw new MetricError(
          `metric '${name}' is registered as a ${existing.info.kind} in ${existing.info.unit} by ${existing.info.owner}; ` +
            `${owner} asks for a ${kind} in ${unit}`,
        );
      }
      return existing;
    }
    const m = make({ name, kind, unit, description, owner });
    this.byName.set(name, m);
    return m;
  }

  /** Every registered metric's description, sorted by name. */
  list(): MetricInfo[] {
    return [...this.byName.values()].map((m) => m.info).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /**
   * The scalar value of a metric by name: a counter's or gauge's value, or for a
   * histogram `name.count|sum|mean|min|max|p50|p90|p99`. Undefined if unknown.
   */
  value(name: string): number | undefined {
    const m = this.byName.get(name);
    if (m instanceof Counter || m instanceof Gauge || m instanceof Peak) return m.value;
    if (m instanceof Histogram) return m.mean;
    const dot = name.lastIndexOf('.');
    const h = this.byName.get(name.slice(0, dot));
    if (!(h instanceof Histogram)) return undefined;
    switch (name.slice(dot + 1)) {
      case 'count':
        return h.count;
      case 'sum':
        return h.stats[1];
      case 'mean':
        return h.mean;
      case 'min':
        return h.count ? h.stats[2] : 0;
      case 'max':
        return h.count ? h.stats[3] : 0;
      case 'p50':
        return h.quantile(0.5);
      case 'p90':
        return h.quantile(0.9);
      case 'p99':
        return h.quantile(0.99);
      default:
        return undefined;
    }
  }

  /** Chooses the metrics sampled into the time series (before the first sample). */
  recordSeries(names: readonly string[]): void {
    for (const name of names) {
      if (this.value(name) === undefined) {
        throw new MetricError(`cannot record unknown metric '${name}' as a time series; known metrics: ${this.list().map((m) => m.name).join(', ')}`);
      }
    }
    this.seriesNames = [...names];
    this.seriesReaders = names.map((n) => {
      const m = this.byName.get(n);
      return m instanceof Peak ? () => m.takeWindow() : () => this.value(n) ?? NaN;
    });
    this.seriesColumns = names.map(() => []);
  }

  /** Appends one row of the time series at simulated time `timeNs`. */
  sample(timeNs: number): void {
    if (!this.seriesNames.length) return;
    this.seriesTimes.push(timeNs);
    for (let i = 0; i < this.seriesReaders.length; i++) this.seriesColumns[i].push(this.seriesReaders[i]());
  }

  /** The time series as CSV: a `time_ns` column, then one column per metric. */
  seriesCsv(): string {
    const lines = [['time_ns', ...this.seriesNames].join(',')];
    for (let r = 0; r < this.seriesTimes.length; r++) {
      lines.push([this.seriesTimes[r], ...this.seriesColumns.map((c) => formatNumber(c[r]))].join(','));
    }
    return lines.join('\n') + '\n';
  }

  /** The time series as columns, for the visualizer and reports. */
  series(): { names: string[]; times: number[]; columns: number[][] } {
    return { names: [...this.seriesNames], times: [...this.seriesTimes], columns: this.seriesColumns.map((c) => [...c]) };
  }

  /** Every metric's value with its unit and description, sorted by name (histograms: exact quantiles, see Histogram.quantile). */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const info of this.list()) {
      const m = this.byName.get(info.name)!;
      if (m instanceof Histogram) {
        const buckets: Array<[number, number, number]> = [];
        for (let b = 0; b < m.counts.length; b++) if (m.counts[b]) buckets.push([...m.bounds(b), m.counts[b]] as [number, number, number]);
        out[info.name] = {
          kind: 'histogram',
          unit: info.unit,
          description: info.description,
          count: m.count,
          sum: m.stats[1],
          mean: round(m.mean),
          min: m.count ? m.stats[2] : 0,
          max: m.count ? m.stats[3] : 0,
          p50: m.quantile(0.5),
          p99: m.quantile(0.99),
          // How far p50 and p99 may be from the true quantiles (see Histogram.quantile).
          quantiles: m.quantilesExact ? 'exact' : m.exact ? 'the last bucket holds everything above it' : 'bucket midpoints, within a factor of √2',
          buckets: buckets.map(([lo, hi, c]) => ({ from: lo, to: Number.isFinite(hi) ? hi : null, count: c })),
        };
      } else {
        out[info.name] = { kind: info.kind, unit: info.unit, description: info.description, value: round(m.value) };
      }
    }
    return out;
  }

  snapshot(): MetricsSnapshot {
    const cells: Record<string, number[]> = {};
    for (const [name, m] of this.byName) {
      cells[name] = m instanceof Histogram ? [...m.stats, ...m.counts, ...m.keptValues()] : [...m.cell];
    }
    return {
      cells,
      series: { times: [...this.seriesTimes], columns: this.seriesColumns.map((c) => [...c]) },
    };
  }

  restore(s: MetricsSnapshot): void {
    for (const [name, values] of Object.entries(s.cells)) {
      const m = this.byName.get(name);
      if (!m) throw new MetricError(`snapshot has metric '${name}', which this simulation does not register`);
      if (m instanceof Histogram) {
        m.stats.set(values.slice(0, 4));
        m.counts.set(values.slice(4, 4 + m.counts.length));
        m.restoreKept(values.slice(4 + m.counts.length));
      } else m.cell.set(values.slice(0, m.cell.length));
    }
    this.seriesTimes = [...s.series.times];
    this.seriesColumns = s.series.columns.map((c) => [...c]);
  }
}

/** Rounds to 12 significant digits, which keeps the JSON readable and loses nothing a model resolves. */
export function round(x: number): number {
  if (!Number.isFinite(x) || Number.isInteger(x)) return x;
  return Number(x.toPrecision(12));
}

function formatNumber(x: number): string {
  return String(round(x));
}
