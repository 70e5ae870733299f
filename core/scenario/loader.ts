// The scenario and host-profile loaders. They take text (the runner reads files; core
// does no I/O), parse YAML or JSON keeping positions, convert quantities with units,
// validate against the schemas, and resolve plugins and host profiles. Every error
// is a ScenarioError carrying the file, line and column, the path in the document,
// what was expected, and a hint where there is one.
//
// This is public API (exported from 'virtlab'): the CLI, the visualizer's worker, the
// matrix runner and tests all load scenarios through it. `loadScenario` is the whole
// path from text to Scenario; its steps are exported for hosts that must find plugins
// and host profiles between them (tools/node/scenario-file.ts reads `pluginPaths`
// first). A run's config.json is accepted as a scenario too: it is recognized by its
// shape and turned back into the document it was resolved from, so a run can be
// repeated from its results folder alone.

import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { ajvCodeOptions, compileSchema, lazyAjv } from '../plugin/schema-cache';
import { Document, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { HOST_PROFILE_SCHEMA, type HostProfile } from '../models/datacenter/host-profile';
import { describeAjvError, closest, PluginOptionError } from '../plugin/manifest';
import type { PresetName } from '../plugin/presets';
import { RegistryError, resolvePluginOptions, type PluginCatalog } from '../plugin/registry';
import { CORE_SCENARIO_SCHEMA } from './schema';
import type { Expectation, HostGroup, Scenario, VmGroup } from './types';
import { bareQuantity, coerceUnits, formatQuantity, UnitError, withUnit, type BareQuantity, type JsonSchema } from '../units/units';
import { MAX_GROUPS, MAX_HOSTS, MAX_SAMPLES, MAX_SCENARIO_BYTES, MAX_SET_INDEX_GAP, MAX_VMS } from './limits';
import { resolveWorkload, workloadObjectSchema, workloadProvider } from './workloads';

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

/**
 * An error in a value given on the command line (`--set path=value`): it names the
 * argument, not a line of the scenario file, which does not hold the value. A matrix
 * gives its overrides the same way; `source` then names the matrix file, and
 * `argument` the axis or `set:` entry and the cell.
 */
export class CommandLineError extends ScenarioError {
  constructor(
    readonly argument: string,
    path: string,
    problem: string,
    hint?: string,
    source = 'command line',
  ) {
    super(source, 0, 0, path, problem, hint);
    this.message = `${source}, ${argument}: ${path ? `${path}: ` : ''}${problem}${hint ? `\n  hint: ${hint}` : ''}`;
  }
}

/** One `--set path=value` (or `--unset path`, with `remove`), and who gave it when not the command line. */
export interface Override {
  readonly path: string;
  readonly value?: unknown;
  /** `--unset`: the key is taken out of the document (a plugin out of `plugins`). */
  readonly remove?: boolean;
  /** Where the override comes from, when not the command line: the file, and the entry in it. */
  readonly origin?: { readonly source: string; readonly argument: string };
}

/** Path segments `--set` refuses: they reach the prototype, not the document. */
const FORBIDDEN_SEGMENTS = ['__proto__', 'constructor', 'prototype'];

/** A parsed document that remembers where each value was written. */
export class PositionedDocument {
  readonly data: Record<string, unknown>;
  /** The parsed YAML, for positions; made from `source` the first time one is asked for. */
  private parsed?: { doc: Document; lines: LineCounter };
  private readonly source?: () => string;

  /** A parsed YAML document, or data built in code with the YAML text it would be written as. */
  constructor(file: string, doc: Document, lines: LineCounter);
  constructor(file: string, built: { data: Record<string, unknown>; text: () => string });
  constructor(
    readonly file: string,
    doc: Document | { data: Record<string, unknown>; text: () => string },
    lines?: LineCounter,
  ) {
    // Told apart by `lines`, not by `instanceof Document`: built data then needs no
    // YAML library at all (a command that builds its scenario in code never loads it).
    if (lines === undefined) {
      doc = doc as { data: Record<string, unknown>; text: () => string };
      this.data = doc.data;
      this.source = doc.text;
      return;
    }
    doc = doc as Document;
    this.parsed = { doc, lines };
    let d: unknown;
    try {
      d = doc.toJS({ maxAliasCount: 1000 }) as unknown;
    } catch (e) {
      // The yaml library refuses documents whose aliases expand without bound (billion laughs).
      throw this.error([], `not a usable YAML document: ${(e as Error).message.split('\n')[0]}`, 'a scenario needs few YAML aliases (&a / *a); at most 1000 expansions');
    }
    if (typeof d !== 'object' || d === null || Array.isArray(d)) {
      throw this.error([], 'the document must be a mapping of keys to values', 'start with `name: my-scenario`');
    }
    this.data = d as Record<string, unknown>;
  }

  /** A document made from data rather than text (positions all point at its start). */
  static fromData(file: string, data: Record<string, unknown>): PositionedDocument {
    const lines = new LineCounter();
    lines.addNewLine(0);
    return new PositionedDocument(file, new Document(data), lines);
  }

  /**
   * A document built in code (a ScenarioBuilder's), taken as data without a round trip
   * through YAML text, which cost more than the rest of booting a small simulation.
   * `text` gives the YAML the data would be written as; it is parsed only when a
   * position is asked for (an error, an expectation's or a series' line), so messages
   * name the same lines as for that text. `data` must be the document that text
   * parses to (undefined values left out) and is the loader's to change.
   */
  static fromBuilt(file: string, data: Record<string, unknown>, text: () => string): PositionedDocument {
    return new PositionedDocument(file, { data, text });
  }

  private get yaml(): { doc: Document; lines: LineCounter } {
    if (!this.parsed) {
      const lines = new LineCounter();
      const doc = parseDocument(this.source!(), { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
      this.parsed = { doc, lines };
    }
    return this.parsed;
  }

  /** Line and column (1-based) of the value at `path`, or of its nearest ancestor. */
  position(path: readonly (string | number)[], atKey = false): { line: number; column: number } {
    let node: unknown = this.yaml.doc.contents;
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
    const pos = this.yaml.lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  }

  /** The values `--set` put into the document: where, and the argument that did. */
  readonly overridden: Array<{ path: string[]; value: unknown; argument: string; source?: string }> = [];

  /**
   * Written by a person (a scenario file), rather than made by code or recorded by a
   * run (config.json, whose quantities are in base units): durations and sizes need
   * their units.
   */
  handWritten = false;

  error(path: readonly (string | number)[], problem: string, hint?: string, atKey = false): ScenarioError {
    // A value that --set gave (or one inside it) is the command line's, not the file's.
    const given = [...this.overridden].reverse().find((o) => o.path.length <= path.length && o.path.every((seg, i) => seg === String(path[i])));
    if (given) return new CommandLineError(given.argument, path.join('.'), problem, hint, given.source);
    const { line, column } = this.position(path, atKey);
    return new ScenarioError(this.file, line, column, path.join('.'), problem, hint);
  }

  /**
   * Sets a value at a dotted path (for `--set`), matching keys that contain dots; or,
   * with `remove`, takes the key at that path out (`--unset`).
   */
  set(dotted: string, value: unknown, knownKeys: (path: string[]) => string[] = () => [], remove = false, origin?: Override['origin']): void {
    const segs = dotted.split('.');
    const path: string[] = [];
    let cur: Record<string, unknown> = this.data;
    let i = 0;
    const argument = origin?.argument ?? (remove ? `--unset ${dotted}` : `--set ${dotted}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
    // A path error names the path given, not the value, which is not in question.
    const refuse = (problem: string, hint?: string) => new CommandLineError(origin?.argument ?? (remove ? `--unset ${dotted}` : `--set ${dotted}`), '', problem, hint, origin?.source);
    // These would reach Object.prototype (prototype pollution), never a scenario key.
    const forbidden = segs.find((s) => FORBIDDEN_SEGMENTS.includes(s));
    if (forbidden !== undefined) throw refuse(`'${forbidden}' is not allowed in a path`, 'a path names scenario keys, e.g. --set duration=10s');
    while (i < segs.length) {
      if (Array.isArray(cur)) {
        // A list takes an index that exists, or the next one (which appends).
        const seg = segs[i];
        const n = cur.length;
        const where = path.join('.');
        if (!/^(0|[1-9][0-9]*)$/.test(seg)) throw refuse(`${where} is a list, '${seg}' is not an index`, n ? `indices 0–${n - 1}` : 'the list is empty: use index 0');
        if (Number(seg) > n) throw refuse(`${where} has ${n} entr${n === 1 ? 'y' : 'ies'}, index ${seg} is out of range`, `indices 0–${n - 1}, or ${n} to add one`);
      }
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
      // A list index far past the end would make a sparse list of that length, which
      // validation then walks element by element (`vms.1000000000.count` hung).
      if (Array.isArray(cur) && /^\d+$/.test(key) && Number(key) > cur.length + MAX_SET_INDEX_GAP) {
        throw refuse(`index ${key} is past the end of the list (${cur.length} entries)`, `an index may be at most ${cur.length + MAX_SET_INDEX_GAP} (the next entry)`);
      }
      if (remove && !Object.prototype.hasOwnProperty.call(cur, key)) {
        const keys = Object.keys(cur);
        throw refuse(`${path.join('.')} is not in the scenario, so there is nothing to remove`, keys.length ? `${path.slice(0, -1).join('.') || 'the scenario'} has: ${keys.join(', ')}` : undefined);
      }
      if (i === segs.length) {
        if (remove) {
          if (Array.isArray(cur)) cur.splice(Number(key), 1);
          else delete cur[key];
          return;
        }
        cur[key] = value;
        this.overridden.push({ path: [...path], value, argument, source: origin?.source });
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
  const out = new PositionedDocument(file, doc, lines);
  out.handWritten = true;
  return out;
}

const ajv = lazyAjv(() => {
  const a = new Ajv({ allErrors: true, strict: false, useDefaults: true, code: ajvCodeOptions() });
  a.addKeyword({ keyword: 'unit', schemaType: 'string' });
  return a;
});
const validateCore: ValidateFunction = compileSchema(ajv, 'scenario', CORE_SCENARIO_SCHEMA);
/** Made on first use: a scenario built in code without hosts reads no host profile. */
let hostValidator: ValidateFunction | undefined;
const validateHost = (): ValidateFunction => (hostValidator ??= compileSchema(ajv, 'scenario', HOST_PROFILE_SCHEMA));

/** The shortest tick a scenario may have: the engine's time unit. */
export const MIN_TICK_NS = 1;

/** The path of the first number that is not finite (YAML's .inf, .nan), if there is one. */
function nonFinite(v: unknown, path: string[] = []): string[] | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? undefined : path;
  if (typeof v !== 'object' || v === null) return undefined;
  for (const [k, x] of Object.entries(v)) {
    const found = nonFinite(x, [...path, k]);
    if (found) return found;
  }
  return undefined;
}

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
  refuseBareInFile(doc, HOST_PROFILE_SCHEMA as JsonSchema, doc.data, []);
  try {
    coerceUnits(HOST_PROFILE_SCHEMA as never, doc.data);
  } catch (e) {
    if (e instanceof UnitError) throw doc.error(e.path, e.message);
    throw e;
  }
  const validate = validateHost();
  if (!validate(doc.data)) throw validationError(doc, bestError(validate.errors!));
  return doc.data as unknown as HostProfile;
}

/**
 * Host profiles by id from `[file, text]` pairs (the Node tools read hosts/ and the
 * scenario's `hostPaths`; the visualizer has them bundled). A file's id must match its
 * name, <id>.host.yaml.
 */
export function loadHostProfiles(files: Iterable<readonly [string, string]>): Map<string, HostProfile> {
  const out = new Map<string, HostProfile>();
  for (const [file, text] of files) {
    const profile = loadHostProfile(text, file);
    const expected = file.replace(/^.*[\\/]/, '').replace(/\.host\.yaml$/, '');
    if (profile.id !== expected) {
      throw new ScenarioError(file, 1, 1, 'id', `host profile id '${profile.id}' does not match its file name`, `rename the file to ${profile.id}.host.yaml or set id: ${expected}`);
    }
    out.set(profile.id, profile);
  }
  return out;
}

/** A parsed scenario document, with what it carries beyond the scenario keys. */
export interface ParsedScenario {
  readonly doc: PositionedDocument;
  /** Host profiles the document embeds (a config.json carries the profiles it ran with). */
  readonly hostProfiles: ReadonlyMap<string, HostProfile>;
  /** Folder its relative paths are resolved against, when the document names it (config.json does). */
  readonly dir?: string;
}

/** Is this parsed document a run's effective configuration (config.json)? */
export function isEffectiveConfig(data: Record<string, unknown>): boolean {
  const sc = data.scenario as Record<string, unknown> | undefined;
  return typeof data.virtlab === 'string' && typeof sc === 'object' && sc !== null && 'tickNs' in sc && Array.isArray(data.plugins);
}

interface EffectiveConfig {
  scenario: {
    name: string;
    description: string;
    seed: number;
    tickNs: number;
    advance?: string;
    durationNs: number;
    preset: string;
    without: string[];
    dir?: string;
    pluginPaths?: string[];
    files?: Record<string, string>;
    topology: unknown;
    hosts: Array<{ name: string; racks: number; perRack: number; profile: HostProfile }>;
    vms: unknown[];
    record: unknown;
    expect: Array<{ metric: string; min?: number; max?: number }>;
  };
  plugins: Array<{ id: string; source: 'preset' | 'scenario'; options: unknown }>;
}

/**
 * Turns a run's effective configuration back into the scenario document it was
 * resolved from: the same preset and `without`, the plugins the scenario chose with
 * their effective options (the preset's own come from the preset again, so the
 * selection and its order are the same), quantities already in base units, and the
 * host profiles it embeds.
 */
export function scenarioFromConfig(config: Record<string, unknown>, file: string): ParsedScenario {
  const { scenario: sc, plugins } = config as unknown as EffectiveConfig;
  const hostProfiles = new Map<string, HostProfile>();
  for (const h of sc.hosts ?? []) hostProfiles.set(h.profile.id, h.profile);
  const data: Record<string, unknown> = {
    name: sc.name,
    description: sc.description,
    seed: sc.seed,
    tick: sc.tickNs,
    ...(sc.advance && sc.advance !== 'tick' ? { advance: sc.advance } : {}),
    duration: sc.durationNs,
    preset: sc.preset,
    without: sc.without,
    pluginPaths: sc.pluginPaths ?? [],
    hosts: (sc.hosts ?? []).map((h) => ({ name: h.name, profile: h.profile.id, racks: h.racks, perRack: h.perRack })),
    topology: sc.topology,
    vms: sc.vms,
    plugins: Object.fromEntries(plugins.filter((p) => p.source !== 'preset').map((p) => [p.id, p.options])),
    record: sc.record,
    expect: Object.fromEntries((sc.expect ?? []).map(({ metric, min, max }) => [metric, { min, max }])),
    files: sc.files ?? {},
  };
  return { doc: PositionedDocument.fromData(file, JSON.parse(JSON.stringify(data)) as Record<string, unknown>), hostProfiles, dir: sc.dir };
}

/** Parses a scenario file's text: a scenario document, or a run's config.json. */
export function readScenarioDocument(text: string, file: string): ParsedScenario {
  if (text.length > MAX_SCENARIO_BYTES) {
    throw new ScenarioError(file, 1, 1, '', `the file is ${text.length} characters long; a scenario may be at most ${MAX_SCENARIO_BYTES} bytes`, 'use groups (count, racks × perRack) rather than one entry per VM or host');
  }
  const doc = parseDocumentText(text, file);
  if (isEffectiveConfig(doc.data)) {
    try {
      return scenarioFromConfig(doc.data, file);
    } catch (e) {
      // A config.json edited by hand or cut short: name the file, not the line of code.
      if (e instanceof ScenarioError) throw e;
      throw new ScenarioError(file, 1, 1, '', `not a usable run configuration (config.json): ${(e as Error).message}`, 'run the scenario file it was made from, or a config.json that virtlab wrote');
    }
  }
  return { doc, hostProfiles: new Map() };
}

/**
 * Applies `--set path=value` overrides to a document. Keys of `plugins` may contain
 * dots (plugin ids do), so `pluginIds` names the ids a path may continue with.
 */
export function applyOverrides(doc: PositionedDocument, set: ScenarioOverrides['set'] = [], pluginIds: readonly string[] = []): void {
  for (const { path, value, remove, origin } of set) doc.set(path, value, (p) => (p.length === 1 && p[0] === 'plugins' ? [...pluginIds] : []), remove, origin);
}

/** The schema of the value at `path` in `schema`, if the schema says. */
function schemaAt(schema: JsonSchema | undefined, path: readonly string[]): JsonSchema | undefined {
  let s = schema;
  for (const seg of path) {
    if (!s) return undefined;
    s = s.properties?.[seg] ?? (s.items as JsonSchema | undefined) ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
  }
  return s;
}

/**
 * Refuses a bare number that `--set` gives to a duration or a size: `--set
 * duration=5` would be 5 ns, which nobody means (see bareQuantity for what takes
 * bare numbers). Overrides are checked whatever the document, because a command line
 * is text even when the scenario was built in code.
 */
function refuseBareQuantities(doc: PositionedDocument, catalog: PluginCatalog): void {
  for (const o of doc.overridden) {
    const schema =
      o.path[0] === 'plugins' && o.path.length >= 2
        ? schemaAt(catalog.get(o.path[1])?.manifest.options as JsonSchema | undefined, o.path.slice(2))
        : schemaAt(CORE_SCENARIO_SCHEMA as JsonSchema, o.path);
    const bare = bareQuantity(schema, o.value, o.path);
    if (!bare) continue;
    // A matrix writes YAML (`path: value`), the command line `--set path=value`.
    const example = typeof o.value !== 'number' ? `${bare.path.at(-1)}: ${withUnit(bare)}` : o.source ? `${o.path.join('.')}: ${withUnit(bare)}` : `--set ${o.path.join('.')}=${withUnit(bare)}`;
    throw new CommandLineError(o.argument, bare.path.join('.'), bareProblem(bare), `write the unit, e.g. ${example}`, o.source);
  }
}

function bareProblem(bare: BareQuantity): string {
  return `${bare.value} has no unit; as a bare number it would be ${formatQuantity(bare.value, bare.dim)}`;
}

/**
 * Refuses a duration or a size written without its unit in a scenario file, at
 * `at` in the document, against `schema`. A value that an override gave is blamed on
 * the override (doc.error knows which).
 */
function refuseBareInFile(doc: PositionedDocument, schema: JsonSchema | undefined, value: unknown, at: readonly (string | number)[]): void {
  if (!doc.handWritten) return;
  const bare = bareQuantity(schema, value, at.map(String));
  if (!bare) return;
  throw doc.error(bare.path, bareProblem(bare), `write the unit: \`${bare.path.at(-1)}: ${withUnit(bare)}\``);
}

export interface ScenarioEnv {
  readonly catalog: PluginCatalog;
  /** Host profiles by id, already loaded. */
  readonly hostProfiles: ReadonlyMap<string, HostProfile>;
  /** Folder the scenario's relative paths are resolved against (recorded in config.json). */
  readonly dir?: string;
}

export interface ScenarioOverrides {
  /** `path=value` assignments and removals, applied in order before validation (values parsed as YAML). */
  readonly set?: ReadonlyArray<Override>;
  readonly seed?: number;
}

/**
 * Validates a parsed scenario and resolves its plugins and host profiles. The
 * document is modified in place (units converted, defaults filled).
 */
export function resolveScenario(doc: PositionedDocument, env: ScenarioEnv, overrides: ScenarioOverrides = {}): Scenario {
  const data = doc.data;
  applyOverrides(doc, overrides.set, env.catalog.list().map((e) => e.manifest.id));
  refuseBareQuantities(doc, env.catalog);
  if (overrides.seed !== undefined) data.seed = overrides.seed;
  checkGroupCounts(doc);
  refuseBareInFile(doc, CORE_SCENARIO_SCHEMA as JsonSchema, data, []);

  try {
    coerceUnits(CORE_SCENARIO_SCHEMA as never, data);
  } catch (e) {
    if (e instanceof UnitError) throw doc.error(e.path, e.message);
    throw e;
  }
  const infinite = nonFinite(data);
  if (infinite) throw doc.error(infinite, 'must be a finite number');
  if (!validateCore(data)) {
    throw validationError(doc, bestError(validateCore.errors!), (path) => {
      if (path.length === 1 && !(path[0] in CORE_SCENARIO_SCHEMA.properties)) {
        const near = closest(path[0], Object.keys(CORE_SCENARIO_SCHEMA.properties));
        return near ? `did you mean '${near}'?` : `top-level keys: ${Object.keys(CORE_SCENARIO_SCHEMA.properties).filter((k) => k !== '$schema').join(', ')}`;
      }
      return undefined;
    });
  }

  // Plugins: each id must exist; its options are resolved (validated, units converted,
  // defaults filled) here, once: selection at boot takes the result as it is.
  const pluginsDoc = data.plugins as Record<string, unknown>;
  const plugins: Array<{ id: string; options: unknown }> = [];
  for (const [id, written] of Object.entries(pluginsDoc)) {
    let options: unknown;
    try {
      const { manifest } = env.catalog.require(id);
      refuseBareInFile(doc, manifest.options as JsonSchema, written, ['plugins', id]);
      options = resolvePluginOptions(manifest, written);
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
    if ('id' in provider) refuseBareInFile(doc, workloadObjectSchema(w.kind as string, provider.workloads![w.kind as string]), w, ['vms', i, 'workload']);
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
  // The engine counts time in whole nanoseconds.
  if (!(tick >= MIN_TICK_NS)) throw doc.error(['tick'], `the tick (${tick} ns) is shorter than the minimum tick of ${MIN_TICK_NS} ns`, 'simulated time is counted in whole nanoseconds: tick: 1ns or more');
  if (tick > duration) throw doc.error(['tick'], `the tick (${tick} ns) is longer than the duration (${duration} ns)`);
  checkEntityCounts(doc, hosts, vms);
  const rec = data.record as { every?: number; series: string[] };
  // Samples are taken at the end of ticks, so an interval shorter than the tick is the
  // tick: without the clamp, `every: 1ns` under a 100 ms tick stepped the next sample
  // time 10^8 times per tick. The effective interval is what config.json shows.
  const every = rec.every === undefined ? Math.max(tick, Math.ceil(duration / 100 / tick) * tick) : Math.max(rec.every, tick);

  if (duration / every > MAX_SAMPLES) {
    throw doc.error(['record', 'every'], `${formatQuantity(duration, 'ns')} sampled every ${formatQuantity(every, 'ns')} is ${Math.ceil(duration / every)} samples; the limit is ${MAX_SAMPLES}`, `sample at least every ${formatQuantity(Math.ceil(duration / MAX_SAMPLES), 'ns')}`);
  }

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
    advance: (data.advance as 'tick' | 'event' | undefined) ?? 'tick',
    duration,
    preset: data.preset as PresetName,
    without: data.without as string[],
    pluginPaths: data.pluginPaths as string[],
    hostPaths: data.hostPaths as string[],
    hosts,
    topology: data.topology as { oversubscription: number },
    vms,
    plugins,
    record: {
      every,
      series: rec.series,
      where: rec.series.map((_, i) => {
        const { line, column } = doc.position(['record', 'series', i]);
        return `${doc.file}:${line}:${column}`;
      }),
    },
    expect,
    files: data.files as Record<string, string>,
    dir: env.dir,
  };
}

/** Refuses more host or VM groups than MAX_GROUPS, before validation walks them. */
function checkGroupCounts(doc: PositionedDocument): void {
  for (const key of ['hosts', 'vms']) {
    const list = doc.data[key];
    if (Array.isArray(list) && list.length > MAX_GROUPS) {
      throw doc.error([key], `${list.length} ${key === 'hosts' ? 'host' : 'VM'} groups; the limit is ${MAX_GROUPS}`, key === 'hosts' ? 'use racks and perRack for many identical hosts' : 'use count for many identical VMs');
    }
  }
}

/** Refuses more hosts or VMs in all than the engine's documented limits, before any is spawned. */
function checkEntityCounts(doc: PositionedDocument, hosts: readonly HostGroup[], vms: readonly VmGroup[]): void {
  const totalHosts = hosts.reduce((n, h) => n + h.racks * h.perRack, 0);
  if (totalHosts > MAX_HOSTS) throw doc.error(['hosts'], `${totalHosts.toLocaleString('en-US')} hosts in all (racks × perRack summed); the limit is ${MAX_HOSTS.toLocaleString('en-US')}`);
  const totalVms = vms.reduce((n, v) => n + v.count, 0);
  if (totalVms > MAX_VMS) throw doc.error(['vms'], `${totalVms.toLocaleString('en-US')} VMs in all (counts summed); the limit is ${MAX_VMS.toLocaleString('en-US')}`);
}

/**
 * The whole path from text to Scenario, for hosts that have their plugins and host
 * profiles at hand: parse (a scenario or a config.json), apply overrides, validate,
 * resolve. Host profiles embedded in a config.json come before those of `env`.
 */
export function loadScenario(text: string, file: string, env: ScenarioEnv, overrides: ScenarioOverrides = {}): Scenario {
  const { doc, hostProfiles, dir } = readScenarioDocument(text, file);
  return resolveScenario(doc, { ...env, hostProfiles: new Map([...env.hostProfiles, ...hostProfiles]), dir: env.dir ?? dir }, overrides);
}

/**
 * The same path for a document built in code (ScenarioBuilder.build()): no text to
 * parse, so no YAML round trip; `text` is the YAML it would be written as, parsed only
 * to position an error or an expectation (see PositionedDocument.fromBuilt).
 */
export function loadBuiltScenario(data: Record<string, unknown>, text: () => string, file: string, env: ScenarioEnv, overrides: ScenarioOverrides = {}): Scenario {
  return resolveScenario(PositionedDocument.fromBuilt(file, asWritten(data) as Record<string, unknown>, text), env, overrides);
}

/** A copy of built data as its YAML text would read back: keys with undefined values left out, undefined in a list as null. */
function asWritten(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : asWritten(x)));
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = asWritten(x);
  return out;
}
