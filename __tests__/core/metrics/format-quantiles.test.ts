// Numbers for a person (core/units/format.ts) and exact histogram quantiles
// (core/metrics/metrics.ts).

import { Metrics } from '../../../core/metrics/metrics';
import { formatChange, formatMetric, formatNumber, formatOptionValue, formatValue, groupThousands } from '../../../core/units/format';

describe('formatting for a person', () => {
  it('uses binary units for memory, short time units, separators and whole counts', () => {
    expect(formatValue(4 * 1024 ** 3, 'bytes')).toBe('4 GiB');
    expect(formatValue(89689957007.3, 'bytes')).toBe('83.53 GiB');
    expect(formatValue(28815.9, 'ms')).toBe('28.82 s');
    expect(formatValue(600e9, 'ns')).toBe('600 s');
    expect(formatValue(32014895.4, 'pages')).toBe('32,014,895 pages');
    expect(formatValue(40, 'count')).toBe('40');
    expect(groupThousands(-1234567)).toBe('-1,234,567');
    expect(formatNumber(0.25)).toBe('0.25');
    expect(formatNumber(999.99)).toBe('1,000');
    expect(formatOptionValue(600e9, 'ns')).toBe('600 s');
    expect(formatChange(100, 112.5)).toBe('+12.5 %');
    expect(formatChange(100, 90)).toBe('−10 %');
  });
});

describe('histogram quantiles', () => {
  // Mutation that must break this: Histogram.quantile returning the clamped log2
  // bucket midpoint again (p99 = min of values near 28.8 s, below the mean).
  it('are exact: the p99 of values that all lie near one figure is not below their mean', () => {
    const m = new Metrics();
    const h = m.histogram('migration.time', 'ms', 'Total time of completed migrations.');
    const values = Array.from({ length: 40 }, (_, i) => 28814.9 + i * 0.05);
    for (const v of values) h.record(v);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(h.quantile(0.99)).toBe(values[39]);
    expect(h.quantile(0.5)).toBe(values[19]);
    expect(h.quantile(0.99)).toBeGreaterThan(mean);
    const json = m.toJSON()['migration.time'] as Record<string, unknown>;
    expect(json).toMatchObject({ description: 'Total time of completed migrations.', quantiles: 'exact', p99: values[39], max: values[39] });
    expect(formatMetric(json as never)).toBe('mean 28.82 s, p50 28.82 s, p99 28.82 s, max 28.82 s (40)');
  });

  it('weigh values recorded many times, and survive a snapshot', () => {
    const m = new Metrics();
    const h = m.histogram('x', 'ns', 'x');
    h.record(10, 98);
    h.record(1000, 2);
    expect(h.quantile(0.5)).toBe(10);
    expect(h.quantile(0.98)).toBe(10);
    expect(h.quantile(0.99)).toBe(1000);
    const snap = m.snapshot();
    const n = new Metrics();
    const g = n.histogram('x', 'ns', 'x');
    n.restore(snap);
    expect(g.quantile(0.99)).toBe(1000);
    expect(g.quantile(0.5)).toBe(10);
  });
});
