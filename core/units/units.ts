// Quantities with units, as people write them in scenarios and host profiles
// ("4GiB", "300ms", "2.6GHz", "10Gbit/s"), converted to the engine's base units:
// bytes, nanoseconds, hertz, bits per second. A plain number is taken to be in the
// base unit already. Schemas mark such fields with `unit`, and the loaders convert
// before validation, so a wrong unit is an error that names the field.

export type Dimension = 'bytes' | 'ns' | 'Hz' | 'bit/s';

/** Suffix tables, longest suffix first so that "ms" is not read as "m" + "s". */
const TABLES: Record<Dimension, Array<[string, number]>> = {
  bytes: [
    ['KiB', 1024], ['MiB', 1024 ** 2], ['GiB', 1024 ** 3], ['TiB', 1024 ** 4],
    ['kB', 1e3], ['KB', 1e3], ['MB', 1e6], ['GB', 1e9], ['TB', 1e12],
    ['B', 1],
  ],
  ns: [
    ['ns', 1], ['us', 1e3], ['µs', 1e3], ['ms', 1e6], ['min', 60e9], ['h', 3600e9], ['s', 1e9],
  ],
  Hz: [['GHz', 1e9], ['MHz', 1e6], ['kHz', 1e3], ['Hz', 1]],
  'bit/s': [
    ['Tbit/s', 1e12], ['Gbit/s', 1e9], ['Mbit/s', 1e6], ['kbit/s', 1e3], ['bit/s', 1],
    ['Tbps', 1e12], ['Gbps', 1e9], ['Mbps', 1e6], ['kbps', 1e3], ['bps', 1],
    ['GiB/s', 8 * 1024 ** 3], ['MiB/s', 8 * 1024 ** 2], ['KiB/s', 8 * 1024],
    ['GB/s', 8e9], ['MB/s', 8e6], ['kB/s', 8e3], ['B/s', 8],
  ],
};

/** The dimension a schema `unit` annotation belongs to, if it is convertible. */
export function dimensionOf(unit: string | undefined): Dimension | undefined {
  switch (unit) {
    case 'bytes':
    case 'B':
      return 'bytes';
    case 'ns':
      return 'ns';
    case 'Hz':
      return 'Hz';
    case 'bit/s':
      return 'bit/s';
    default:
      return undefined;
  }
}

export class UnitError extends Error {
  /** Path of the offending value in the document, when known. */
  path: string[] = [];
}

/** Parses "4GiB", "1.5 ms", 42 … into the dimension's base unit. */
export function parseQuantity(value: unknown, dim: Dimension): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') throw new UnitError(`expected a number or a string with a unit (${examples(dim)})`);
  const text = value.trim();
  const m = /^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*)$/.exec(text);
  if (!m) throw new UnitError(`'${value}' is not a quantity; write it like ${examples(dim)}`);
  const n = Number(m[1]);
  const suffix = m[2];
  if (suffix === '') return n;
  for (const [s, factor] of TABLES[dim]) if (suffix === s) return n * factor;
  throw new UnitError(`unknown unit '${suffix}' in '${value}' for ${dim}; use one of ${TABLES[dim].map((t) => t[0]).join(', ')}`);
}

function examples(dim: Dimension): string {
  switch (dim) {
    case 'bytes':
      return '"4GiB" or "512MiB"';
    case 'ns':
      return '"300ms" or "1s"';
    case 'Hz':
      return '"2.6GHz"';
    case 'bit/s':
      return '"10Gbit/s" or "128MiB/s"';
  }
}

/** Formats a base-unit value for humans ("4 GiB", "300 ms"). */
export function formatQuantity(value: number, dim: Dimension): string {
  const pick: Record<Dimension, Array<[string, number]>> = {
    bytes: [['TiB', 1024 ** 4], ['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024], ['B', 1]],
    ns: [['h', 3600e9], ['s', 1e9], ['ms', 1e6], ['µs', 1e3], ['ns', 1]],
    Hz: [['GHz', 1e9], ['MHz', 1e6], ['kHz', 1e3], ['Hz', 1]],
    'bit/s': [['Tbit/s', 1e12], ['Gbit/s', 1e9], ['Mbit/s', 1e6], ['kbit/s', 1e3], ['bit/s', 1]],
  };
  for (const [s, f] of pick[dim]) {
    if (Math.abs(value) >= f) return `${trim(value / f)} ${s}`;
  }
  return `${trim(value)} ${pick[dim][pick[dim].length - 1][0]}`;
}

function trim(x: number): string {
  // From 1,000 on, toPrecision would switch to exponent form ("1.235e+4").
  if (Math.abs(x) >= 1000) return String(Math.round(x)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  if (Number.isInteger(x)) return String(x);
  const p = x.toPrecision(4);
  return p.includes('.') ? p.replace(/\.?0+$/, '') : p;
}

export type JsonSchema = {
  type?: string | string[];
  unit?: string;
  /** A bare number is meant (in the base unit): text may leave the unit out. */
  bareNumber?: boolean;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  [k: string]: unknown;
};

/**
 * Walks a JSON Schema and a value together and converts, in place, every string
 * found where the schema says `{ type: number, unit: <convertible> }`. Errors name
 * the path. Returns the (possibly new) value.
 */
export function coerceUnits(schema: JsonSchema | undefined, value: unknown, path: string[] = []): unknown {
  if (!schema || value === null || value === undefined) return value;
  // Conditional and composed schemas: walk the branches too (a unit never conflicts).
  for (const sub of [schema.then, ...((schema.allOf as JsonSchema[] | undefined) ?? [])] as Array<JsonSchema | undefined>) {
    if (sub) value = coerceUnits(sub, value, path);
  }
  const dim = dimensionOf(schema.unit);
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (dim && typeof value === 'string' && (types.includes('number') || types.includes('integer'))) {
    try {
      const n = parseQuantity(value, dim);
      return types.includes('integer') && !types.includes('number') ? Math.round(n) : n;
    } catch (e) {
      const err = new UnitError((e as Error).message);
      err.path = path;
      throw err;
    }
  }
  if (Array.isArray(value) && schema.items) {
    for (let i = 0; i < value.length; i++) value[i] = coerceUnits(schema.items, value[i], [...path, String(i)]);
    return value;
  }
  if (typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      const sub =
        schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      if (sub) obj[key] = coerceUnits(sub, obj[key], [...path, key]);
    }
  }
  return value;
}

/** A number written without its unit where one is needed (see bareQuantity). */
export interface BareQuantity {
  readonly path: string[];
  readonly value: number;
  readonly dim: 'ns' | 'bytes';
}

/**
 * The first number written without a unit where the schema wants a duration or a
 * size: in text, `duration: 5` would be 5 ns, which nobody means. Zero needs no unit,
 * and a field whose schema says `bareNumber: true` takes bare numbers (a count of
 * bytes meant as such). Other dimensions (Hz, bit/s) are left alone: their base
 * units are what people write.
 */
export function bareQuantity(schema: JsonSchema | undefined, value: unknown, path: string[] = []): BareQuantity | undefined {
  if (!schema || value === null || value === undefined) return undefined;
  for (const sub of [schema.then, ...((schema.allOf as JsonSchema[] | undefined) ?? [])] as Array<JsonSchema | undefined>) {
    const found = sub && bareQuantity(sub, value, path);
    if (found) return found;
  }
  const dim = dimensionOf(schema.unit);
  if (typeof value === 'number') {
    // .inf and .nan are refused as not finite, which says more than a missing unit.
    return (dim === 'ns' || dim === 'bytes') && value !== 0 && Number.isFinite(value) && !schema.bareNumber ? { path, value, dim } : undefined;
  }
  if (Array.isArray(value)) {
    if (!schema.items) return undefined;
    for (let i = 0; i < value.length; i++) {
      const found = bareQuantity(schema.items, value[i], [...path, String(i)]);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof value === 'object') {
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      const sub = schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      const found = sub && bareQuantity(sub, v, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * The quantity written with a unit, for hints: a small duration most likely meant
 * seconds (`duration: 5`); a size, and a large duration, as the base unit the number
 * stands for now (`messageSize: 64B`), since a size's intended unit cannot be guessed.
 */
export function withUnit(q: BareQuantity): string {
  if (q.dim === 'ns') return q.value < 1000 ? `${q.value}s` : `${q.value}ns`;
  return `${q.value}B`;
}
