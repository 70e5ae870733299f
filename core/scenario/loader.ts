// The scenario and host-profile loaders. They take text (the runner reads files; core
// does no I/O), parse YAML or JSON keeping positions, convert quantities with units,
// validate against the schemas, and resolve plugins and host profiles. Every error
// is a ScenarioError carrying the file, line and column, the path in the document,
// what was expected, and a hint where there is one.

import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { HOST_PROFILE_SCHEMA, type HostProfile } from '../models/datacenter/host-profile';
import { describeAjvError, closest, PluginOptionError, resolveOptions } from '../plugin/manifest';
import type { PresetName } from '../plugin/presets';
import { RegistryError, type PluginCatalog } from '../plugin/registry';
import { CORE_SCENARIO_SCHEMA } from './schema';
import type { Expectation, HostGroup, Scenario, VmGroup } from './types';
import { coerceUnits, UnitError } from './units';
import { resolveWorkload, workloadProvider } from './workloads';

export class ScenarioError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly path: string,
    readonly problem: string,
    readonly hint?: string,
  ) {
    super(`${file}:${line}:${column}: ${path ? `${path}: ` : ''}${problem}${hint ? `\n  hint: ${hint}` : ''}`);
  }
}

/** A parsed document that remembers where each value was written. */
export class PositionedDocument {
  readonly data: Record<string, unknown>;

  constructor(
    readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {
    const d = doc.toJS({ maxAliasCount: 1000 }) as unknown;
    if (typeof d !== 'object' || d === null || Array.isArray(d)) {
      throw this.error([], 'the document must be a mapping of keys to values', 'start with `name: my-scenario`');
    }
    this.data = d as Record<string, unknown>;
  }

  /** Line and column (1-based) of the value at `path`, or of its nearest ancestor. */
  position(path: readonly (string | number)[], atKey = false): { line: number; column: number } {
    let node: unknown = this.doc.contents;
    let offset = (node as YamlNode | null)?.range?.[0] ?? 0;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        const keyNode = pair.key as YamlNode;
        offset = atKey && seg === path[path.length - 1] ? (keyNode.range?.[0] ?? offset) : ((pair.value as YamlNode | null)?.range?.[0] ?? keyNode.range?.[0] ?? offset);
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)] as YamlNode | undefined;
        if (!item) break;
        offset = item.range?.[0] ?? offset;
        node = item;
      } else break;
    }
    const pos = this.lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  }

  error(path: readonly (string | number)[], problem: string, hint?: string, atKey = false): ScenarioError {
    const { line, column } = this.position(path, atKey);
    return new ScenarioError(this.file, line, column, path.join('.'), problem, hint);
  }

  /** Sets a value at a dotted path (for `--set`), matching keys that contain dots. */
  set(dotted: string, value: unknown, knownKeys: (path: string[]) => string[] = () => []): void {
    const segs = dotted.split('.');
    const path: string[] = [];
    let cur: Record<string, unknown> = this.data;
    let i = 0;
    while (i < segs.length) {
      const existing = Object.keys(cur).concat(knownKeys(path));
      let take = 1;
      for (let n = segs.length - i; n >= 1; n--) {
        if (existing.includes(segs.slice(i, i + n).join('.'))) {
          take = n;
          break;
        }
      }
      const key = segs.slice(i, i + take).join('.');
      i += take;
      path.push(key);
      if (i === segs.length) {
        cur[key] = value;
        return;
      }
      if (typeof cur[key] !== 'object' || cur[key] === null) cur[key] = {};
      cur = cur[key] as Record<string, unknown>;
    }
  }
}

/** Parses YAML or JSON text; a syntax error becomes a ScenarioError at its line. */
export function parseDocumentText(text: string, file: string): PositionedDocument {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const pos = e.linePos?.[0] ?? lines.linePos(e.pos[0]);
    throw new ScenarioError(file, pos.line, pos.col, '', `not valid YAML: ${e.message.split('\n')[0]}`, e.code === 'DUPLICATE_KEY' ? 'each key may appear once' : undefined);
  }
  return new PositionedDocument(file, doc, lines);
}

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true });
ajv.addKeyword({ keyword: 'unit', schemaType: 'string' });
const validateCore: ValidateFunction = ajv.compile(CORE_SCENARIO_SCHEMA);
const validateHost: ValidateFunction = ajv.compile(HOST_PROFILE_SCHEMA);

function ajvToPath(e: ErrorObject): string[] {
  const segs = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (e.keyword === 'additionalProperties') segs.push((e.params as { additionalProperty: string }).additionalProperty);
  return segs;
}

/** Picks the most useful of ajv's errors: the deepest, preferring concrete keywords. */
function bestError(errors: ErrorObject[]): ErrorObject {
  const concrete = errors.filter((e) => !['if', 'then', 'anyOf', 'oneOf'].includes(e.keyword));
  const pool = concrete.length ? concrete : errors;
  return pool.reduce((a, b) => (b.instancePath.length > a.instancePath.length ? b : a));
}

function validationError(doc: PositionedDocument, e: ErrorObject, schemaHint?: (path: string[]) => string | undefined): ScenarioError {
  const path = ajvToPath(e);
  const text = describeAjvError(e).replace(/^[^:]*: /, '');
  return doc.error(path, text, schemaHint?.(path), e.keyword === 'additionalProperties');
}

/** Loads and validates a host profile (hosts/*.host.yaml). */
export function loadHostProfile(text: string, file: string): HostProfile {
  const doc = parseDocumentText(text, file);
  try {
    coerceUnits(HOST_PROFILE_SCHEMA as never, doc.data);
  } catch (e) {
    if (e instanceof UnitError) throw doc.error(e.path, e.message);
    throw e;
  }
  if (!validateHost(doc.data)) throw validationError(doc, bestError(validateHost.errors!));
  return doc.data as unknown as HostProfile;
}

export interface ScenarioEnv {
  readonly catalog: PluginCatalog;
  /** Host profiles by id, already loaded. */
  readonly hostProfiles: ReadonlyMap<string, HostProfile>;
}

export interface ScenarioOverrides {
  /** `path=value` assignments, applied before validation (values parsed as YAML). */
  readonly set?: ReadonlyArray<{ path: string; value: unknown }>;
  readonly seed?: number;
}

/**
 * Validates a parsed scenario and resolves its plugins and host profiles. The
 * document is modified in place (units converted, defaults filled).
 */
export function resolveScenario(doc: PositionedDocument, env: ScenarioEnv, overrides: ScenarioOverrides = {}): Scenario {
  const data = doc.data;
  for (const { path, value } of overrides.set ?? []) {
    doc.set(path, value, (p) => (p.length === 1 && p[0] === 'plugins' ? env.catalog.list().map((e) => e.manifest.id) : []));
  }
  if (overrides.seed !== undefined) data.seed = overrides.seed;

  try {
    coerceUnits(CORE_SCENARIO_SCHEMA as never, data);
  } catch (e) {
    if (e instanceof UnitError) throw doc.error(e.path, e.message);
    throw e;
  }
  if (!validateCore(data)) {
    throw validationError(doc, bestError(validateCore.errors!), (path) => {
      if (path.length === 1) {
        const near = closest(path[0], Object.keys(CORE_SCENARIO_SCHEMA.properties));
        return near ? `did you mean '${near}'?` : `top-level keys: ${Object.keys(CORE_SCENARIO_SCHEMA.properties).filter((k) => k !== '$schema').join(', ')}`;
      }
      return undefined;
    });
  }

  // Plugins: each id must exist; its options are validated against its manifest.
  const pluginsDoc = data.plugins as Record<string, unknown>;
  const plugins: Array<{ id: string; options: unknown }> = [];
  for (const [id, options] of Object.entries(pluginsDoc)) {
    try {
      const entry = env.catalog.require(id);
      resolveOptions(entry.manifest, options); // validation only; the registry resolves again at boot
    } catch (e) {
      if (e instanceof RegistryError) throw doc.error(['plugins', id], e.message, e.hint, true);
      if (e instanceof PluginOptionError) {
        const optPath = e.optionPath ? e.optionPath.split('.') : [];
        throw doc.error(['plugins', id, ...optPath], e.message, e.hint, optPath.length === 1 && !!e.hint?.startsWith('did you mean'));
      }
      throw e;
    }
    plugins.push({ id, options });
  }

  const hosts: HostGroup[] = (data.hosts as Array<Record<string, unknown>>).map((h, i) => {
    const id = h.profile as string;
    const profile = env.hostProfiles.get(id);
    if (!profile) {
      const known = [...env.hostProfiles.keys()].sort();
      const near = closest(id, known);
      throw doc.error(['hosts', i, 'profile'], `unknown host profile '${id}'`, near ? `did you mean '${near}'?` : `known profiles: ${known.join(', ') || 'none (is hosts/ there?)'}`);
    }
    return { name: (h.name as string) ?? `${id}-${i}`, profile, racks: h.racks as number, perRack: h.perRack as number };
  });

  // Workloads: each against the schema its kind's plugin declares (defaults filled).
  const selection = { preset: data.preset as PresetName, plugins: plugins.map((p) => p.id), without: data.without as string[] };
  (data.vms as Array<Record<string, unknown>>).forEach((v, i) => {
    const w = v.workload as Record<string, unknown> | undefined;
    if (!w) return;
    const provider = workloadProvider(env.catalog, w.kind as string, selection);
    const problem = 'id' in provider ? resolveWorkload(provider, w) : provider;
    if (!problem) return;
    const at = ['vms', i, 'workload', ...problem.path];
    if (problem.error) {
      const text = describeAjvError(problem.error).replace(/^[^:]*: /, '');
      throw doc.error(at, text, problem.hint, problem.error.keyword === 'additionalProperties');
    }
    throw doc.error(at, problem.problem, problem.hint);
  });

  const vms: VmGroup[] = (data.vms as Array<Record<string, unknown>>).map((v, i) => ({
    name: (v.name as string) ?? `vm-${i}`,
    count: v.count as number,
    vcpus: v.vcpus as number,
    memory: v.memory as number,
    arrival: v.arrival as number,
    workload: v.workload as VmGroup['workload'],
  }));

  const tick = data.tick as number;
  const duration = data.duration as number;
  if (tick > duration) throw doc.error(['tick'], `the tick (${tick} ns) is longer than the duration (${duration} ns)`);
  const rec = data.record as { every?: number; series: string[] };
  const every = rec.every ?? Math.max(tick, Math.ceil(duration / 100 / tick) * tick);

  const expect: Expectation[] = Object.entries(data.expect as Record<string, { min?: number; max?: number; equals?: number }>).map(
    ([metric, r]) => {
      const { line, column } = doc.position(['expect', metric], true);
      const where = `${doc.file}:${line}:${column}`;
      if (r.equals !== undefined) return { metric, min: r.equals, max: r.equals, where };
      return { metric, min: r.min, max: r.max, where };
    },
  );

  return {
    file: doc.file,
    name: data.name as string,
    description: data.description as string,
    seed: data.seed as number,
    tick,
    duration,
    preset: data.preset as PresetName,
    without: data.without as string[],
    pluginPaths: data.pluginPaths as string[],
    hosts,
    topology: data.topology as { oversubscription: number },
    vms,
    plugins,
    record: { every, series: rec.series },
    expect,
    files: data.files as Record<string, string>,
  };
}
