// Numbers for a person: the one place that decides how the summary, the report and
// `virtlab compare` print a value. Memory in binary units (4 GiB), time in the unit
// that keeps it short (28.8 s, not 28815.9 ms), thousands separators, whole counts
// as whole numbers, option values in their units (deadline: 600 s). Results files
// keep the raw numbers; only what people read goes through here. The separators are
// written by hand, not by Intl, so that the text never depends on the host's locale.

import { formatQuantity, type Dimension } from './units';

/** A whole number with thousands separators: 1234567 → "1,234,567". */
export function groupThousands(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const whole = Math.round(n);
  const digits = String(Math.abs(whole));
  // Beyond 2^53 String() switches to exponent form; such a number is not a count anyone reads digit by digit.
  if (digits.includes('e')) return whole.toPrecision(4);
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return whole < 0 ? `-${grouped}` : grouped;
}

/**
 * A plain number: whole numbers and anything of 1,000 or more as a grouped whole
 * number, smaller fractions with four significant digits and no trailing zeros.
 */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) || Math.abs(Number(x.toPrecision(4))) >= 1000) return groupThousands(x);
  if (x === 0) return '0';
  if (Math.abs(x) < 1e-3) return x.toExponential(2);
  return trimZeros(x.toPrecision(4));
}

function trimZeros(s: string): string {
  return s.includes('.') && !s.includes('e') ? s.replace(/\.?0+$/, '') : s;
}

/** How many nanoseconds one of each time unit a metric may be kept in is. */
const TIME_UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, min: 60e9, h: 3600e9 };

/** The dimension a unit name belongs to, with the factor to its base unit. */
function dimensionOfUnit(unit: string): { dim: Dimension; factor: number } | undefined {
  if (unit in TIME_UNITS) return { dim: 'ns', factor: TIME_UNITS[unit] };
  if (unit === 'bytes' || unit === 'B') return { dim: 'bytes', factor: 1 };
  if (unit === 'bit/s') return { dim: 'bit/s', factor: 1 };
  if (unit === 'Hz') return { dim: 'Hz', factor: 1 };
  return undefined;
}

/** A duration in nanoseconds: "28.8 s", "1.5 ms", "2 h". */
export function formatDuration(ns: number): string {
  return ns === 0 ? '0 s' : formatQuantity(ns, 'ns');
}

/** A size in bytes, in binary units: "4 GiB", "83.5 GiB". */
export function formatBytes(bytes: number): string {
  return formatQuantity(bytes, 'bytes');
}

/**
 * A value in `unit` with its unit: times and sizes in the unit that fits
 * ("28.8 s", "4 GiB"), counts grouped ("32,014,895 pages"), ratios bare.
 */
export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return String(value);
  const d = dimensionOfUnit(unit);
  if (d) return d.dim === 'ns' ? formatDuration(value * d.factor) : formatQuantity(value * d.factor, d.dim);
  if (unit === '' || unit === 'ratio' || unit === 'count') return formatNumber(value);
  if (unit === '%') return `${formatNumber(value)} %`;
  return `${formatNumber(value)} ${unit}`;
}

/**
 * A plugin option's value for a person: a number with a unit the manifest gives
 * (`deadline: 600 s`, not 600000000000), other values as they would be written in a
 * scenario.
 */
export function formatOptionValue(value: unknown, unit?: string): string {
  if (typeof value === 'number') return unit ? formatValue(value, unit) : formatNumber(value);
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** A relative change for a person: "+12.5 %", "−3.1 %", "0 %", "new" when the base is 0. */
export function formatChange(before: number, after: number): string {
  if (before === after) return '0 %';
  if (before === 0) return after > 0 ? '+∞' : '−∞';
  const r = ((after - before) / Math.abs(before)) * 100;
  const text = Math.abs(r) >= 100 ? groupThousands(Math.abs(r)) : trimZeros(Math.abs(r).toPrecision(3));
  return `${r > 0 ? '+' : '−'}${text} %`;
}

/** A metric as metrics.json writes it (the fields the formatting reads). */
export interface MetricRecord {
  readonly kind: string;
  readonly unit: string;
  readonly description?: string;
  readonly value?: number;
  readonly count?: number;
  readonly mean?: number;
  readonly p50?: number;
  readonly p99?: number;
  readonly max?: number;
}

/**
 * A metric's value for a person, with its unit: a counter's or gauge's value, or a
 * histogram's mean, p50, p99 and maximum with the number of values
 * ("mean 28.82 s, p50 28.8 s, p99 28.9 s, max 28.9 s (40)").
 */
export function formatMetric(m: MetricRecord): string {
  if (m.kind !== 'histogram') return formatValue(m.value ?? 0, m.unit);
  if (!m.count) return 'none recorded';
  const f = (x: number | undefined) => formatValue(x ?? 0, m.unit);
  return `mean ${f(m.mean)}, p50 ${f(m.p50)}, p99 ${f(m.p99)}, max ${f(m.max)} (${groupThousands(m.count)})`;
}
