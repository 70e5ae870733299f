// Plugin manifests (plugin.json): validation against plugin.schema.json, and the
// resolution of a scenario's option values against a manifest's option schema
// (units converted, defaults applied, unknown or invalid options refused with the
// plugin id, the option path and the accepted values).

import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import manifestSchema from '../../plugin.schema.json';
import { coerceUnits, type UnitError } from '../units/units';
import { formatOptionValue } from '../units/format';
import { closest } from './closest';
import { ajvCodeOptions, compileSchema, lazyAjv } from './schema-cache';

export { closest };

export interface OptionSchema {
  readonly type?: string | string[];
  readonly description: string;
  readonly default: unknown;
  readonly unit?: string;
  readonly enum?: readonly unknown[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly items?: unknown;
  readonly properties?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/**
 * A workload kind a plugin runs (`workload: { kind: K, … }` in a VM group): the
 * schema of the mapping's other keys. The scenario schema is composed from these.
 */
export interface WorkloadSchema {
  readonly description: string;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly required?: readonly string[];
}

export interface PluginManifest {
  readonly id: string;
  readonly version: string;
  readonly engine: string;
  readonly description: string;
  readonly entry?: string;
  readonly provides: readonly string[];
  readonly requires?: readonly string[];
  readonly conflicts?: readonly string[];
  readonly tags?: readonly string[];
  readonly reproduces?: string;
  /** Workload kinds this plugin runs, each with its schema; the plugin provides `workload.<kind>`. */
  readonly workloads?: Readonly<Record<string, WorkloadSchema>>;
  readonly options: {
    readonly type: 'object';
    readonly additionalProperties?: false;
    readonly properties: Readonly<Record<string, OptionSchema>>;
    readonly required?: readonly string[];
  };
}

export class ManifestError extends Error {}

export class PluginOptionError extends Error {
  constructor(
    readonly pluginId: string,
    readonly optionPath: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** One ajv instance for manifests and option schemas; `unit` is an annotation. */
export function createAjv(options: { useDefaults?: boolean } = {}): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: options.useDefaults ?? false, code: ajvCodeOptions() });
  ajv.addKeyword({ keyword: 'unit', schemaType: 'string' });
  return ajv;
}

const manifestAjv = lazyAjv(() => createAjv());
/** Made on first use: a command whose manifests were all validated by the build never needs it. */
let manifestValidator: ValidateFunction | undefined;
const validateManifestSchema = (): ValidateFunction => (manifestValidator ??= compileSchema(manifestAjv, 'manifest', manifestSchema));
const optionsAjv = lazyAjv(() => createAjv({ useDefaults: true }));
/**
 * Compiled option validators by the text of their schema. A process loads catalogs
 * more than once (the matrix runner opens one per cell, tests one per scenario), and
 * compiling is what a catalog load costs; equal schemas share one validator.
 */
const optionValidators = new Map<string, ValidateFunction>();

function optionsValidator(options: PluginManifest['options']): ValidateFunction {
  const key = JSON.stringify(options);
  let validate = optionValidators.get(key);
  if (!validate) {
    validate = compileSchema(optionsAjv, 'options', { ...options, additionalProperties: false });
    optionValidators.set(key, validate);
  }
  return validate;
}

/**
 * Shared option schemas that manifests reference instead of copying them, grouped by
 * the contract they belong to: `{ "$ref": "virtlab:<group>#/<json pointer>" }` stands
 * for the fragment at that pointer in that group (core/option-fragments.ts lists the
 * groups). Keys written beside `$ref` override the fragment's (a different `default`,
 * say); when both have `properties`, they are merged, so a manifest can take a whole
 * shared options object and add its own options to it.
 */
export type OptionFragments = Readonly<Record<string, unknown>>;

const FRAGMENT_REF = /^virtlab:([a-z][a-z0-9-]*)(?:#(\/.*)?)?$/;

/** The manifest with every `virtlab:` reference replaced by the fragment it names. */
export function expandFragments(json: unknown, fragments: OptionFragments, where: string): unknown {
  const expand = (node: unknown, path: string): unknown => {
    if (Array.isArray(node)) return node.map((x, i) => expand(x, `${path}/${i}`));
    if (typeof node !== 'object' || node === null) return node;
    const obj = node as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    const ref = obj.$ref;
    if (typeof ref === 'string' && ref.startsWith('virtlab:')) {
      const target = expand(lookupFragment(ref, fragments, `${where}${path}`), path) as Record<string, unknown>;
      Object.assign(out, target);
      for (const [k, v] of Object.entries(obj)) {
        if (k === '$ref') continue;
        const mine = expand(v, `${path}/${k}`);
        out[k] = k === 'properties' && isObject(target.properties) && isObject(mine) ? { ...target.properties, ...mine } : mine;
      }
      return out;
    }
    for (const [k, v] of Object.entries(obj)) out[k] = expand(v, `${path}/${k}`);
    return out;
  };
  return expand(json, '');
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function lookupFragment(ref: string, fragments: OptionFragments, at: string): unknown {
  const m = FRAGMENT_REF.exec(ref);
  if (!m) throw new ManifestError(`invalid plugin manifest ${at}: '${ref}' is not a fragment reference; write virtlab:<group>#/<pointer>`);
  const groups = Object.keys(fragments);
  if (!(m[1] in fragments)) {
    const near = closest(m[1], groups);
    throw new ManifestError(
      `invalid plugin manifest ${at}: no option fragment group '${m[1]}' (${near ? `did you mean '${near}'? ` : ''}groups: ${groups.join(', ') || 'none'})`,
    );
  }
  let node: unknown = fragments[m[1]];
  const segments = (m[2] ?? '').split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  for (const seg of segments) {
    if (!isObject(node) || !(seg in node)) {
      const here = isObject(node) ? Object.keys(node) : [];
      const near = closest(seg, here);
      throw new ManifestError(
        `invalid plugin manifest ${at}: '${ref}' names nothing: no '${seg}'${near ? ` (did you mean '${near}'?)` : here.length ? ` (there: ${here.join(', ')})` : ''}`,
      );
    }
    node = node[seg];
  }
  return structuredClone(node);
}

/**
 * Validates a parsed plugin.json; `where` (its path) goes into the error. Fragment
 * references are expanded first, from `fragments` (the public `validateManifest` of
 * 'virtlab' passes every group core defines).
 */
export function validateManifest(raw: unknown, where: string, fragments: OptionFragments = {}): PluginManifest {
  const json = expandFragments(raw, fragments, where);
  const validateSchema = validateManifestSchema();
  if (!validateSchema(json)) {
    const problems = (validateSchema.errors ?? []).map((e) => `  ${describeAjvError(e)}`).join('\n');
    throw new ManifestError(`invalid plugin manifest ${where}:\n${problems}`);
  }
  const m = json as PluginManifest;
  try {
    optionsValidator(m.options);
  } catch (e) {
    throw new ManifestError(`invalid plugin manifest ${where}: its options are not a valid JSON Schema: ${(e as Error).message}`);
  }
  for (const [kind, w] of Object.entries(m.workloads ?? {})) {
    if (!m.provides.includes(`workload.${kind}`)) {
      throw new ManifestError(`invalid plugin manifest ${where}: it declares '${kind}' workloads but does not provide 'workload.${kind}'`);
    }
    try {
      compileSchema(optionsAjv, 'options', { type: 'object', properties: w.properties, required: w.required ?? [] });
    } catch (e) {
      throw new ManifestError(`invalid plugin manifest ${where}: workloads.${kind} is not a valid JSON Schema: ${(e as Error).message}`);
    }
  }
  return m;
}

/**
 * The effective options of a plugin: `given` (from a scenario; may be null) with
 * units converted and every default filled in. Throws PluginOptionError.
 */
export function resolveOptions(manifest: PluginManifest, given: unknown): Record<string, unknown> {
  const value = given === null || given === undefined ? {} : structuredClone(given);
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new PluginOptionError(manifest.id, '', `options of plugin '${manifest.id}' must be a mapping of option names to values`);
  }
  const known = Object.keys(manifest.options.properties);
  for (const key of Object.keys(value as object)) {
    if (!known.includes(key)) {
      const near = closest(key, known);
      throw new PluginOptionError(
        manifest.id,
        key,
        `plugin '${manifest.id}' has no option '${key}'`,
        known.length ? `${near ? `did you mean '${near}'? ` : ''}options: ${known.join(', ')}` : 'this plugin takes no options',
      );
    }
  }
  try {
    coerceUnits(manifest.options as never, value);
  } catch (e) {
    const path = (e as UnitError).path?.join('.') ?? '';
    throw new PluginOptionError(manifest.id, path, `plugin '${manifest.id}' option '${path}': ${(e as Error).message}`);
  }
  const validate = optionsValidator(manifest.options);
  if (!validate(value)) {
    const e = validate.errors![0];
    const path = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const schema = path ? manifest.options.properties[path.split('.')[0]] : undefined;
    throw new PluginOptionError(
      manifest.id,
      path,
      `plugin '${manifest.id}' option '${path}' ${e.message}`,
      schema ? `${schema.description}${schema.unit ? ` (${schema.unit})` : ''}; default ${typeof schema.default === 'number' ? formatOptionValue(schema.default, schema.unit) : JSON.stringify(schema.default)}` : undefined,
    );
  }
  return value as Record<string, unknown>;
}

/** An ajv error as one readable line: the path, then what was expected. */
export function describeAjvError(e: ErrorObject): string {
  const path = e.instancePath ? e.instancePath.replace(/^\//, '').replace(/\//g, '.') : '(root)';
  switch (e.keyword) {
    case 'additionalProperties':
      return `${path}: unknown property '${(e.params as { additionalProperty: string }).additionalProperty}'`;
    case 'enum':
      return `${path}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'required':
      return `${path}: missing required property '${(e.params as { missingProperty: string }).missingProperty}'`;
    default:
      return `${path}: ${e.message}`;
  }
}

