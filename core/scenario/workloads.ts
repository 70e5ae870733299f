// Workload kinds: a VM group's `workload: { kind: K, … }` is validated against the
// schema that the plugin running K declares in its manifest (`workloads.K`), not
// against a list written into core. The scenario schema is composed from those
// declarations, so a plugin that adds a workload kind adds its schema with it.
//
// Which plugin's schema applies: the provider of `workload.K` that the scenario
// selects (listed under `plugins:`, or in its preset), else the only installed one.

import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { ajvCodeOptions, compileSchema, lazyAjv } from '../plugin/schema-cache';
import { closest, type PluginManifest, type WorkloadSchema } from '../plugin/manifest';
import { PRESETS, type PresetName } from '../plugin/presets';
import type { PluginCatalog } from '../plugin/registry';
import { coerceUnits, type JsonSchema } from '../units/units';

const ajv = lazyAjv(() => {
  const a = new Ajv({ allErrors: true, strict: false, useDefaults: true, code: ajvCodeOptions() });
  a.addKeyword({ keyword: 'unit', schemaType: 'string' });
  return a;
});
const compiled = new WeakMap<object, ValidateFunction>();

/** The full JSON Schema of `workload: { kind: K, … }` from a manifest's declaration. */
export function workloadObjectSchema(kind: string, w: WorkloadSchema): JsonSchema {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['kind', ...(w.required ?? [])],
    description: w.description,
    properties: { kind: { const: kind, description: w.description }, ...w.properties },
  };
}

/** Every workload kind the manifests declare, as the `if kind = K then …` branches of a schema. */
export function workloadBranches(manifests: readonly PluginManifest[]): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const m of manifests) {
    for (const [kind, w] of Object.entries(m.workloads ?? {})) {
      out.push({ if: { properties: { kind: { const: kind } } }, then: workloadObjectSchema(kind, w) });
    }
  }
  return out;
}

export interface WorkloadProblem {
  /** Path below the `workload:` mapping. */
  readonly path: readonly (string | number)[];
  readonly problem: string;
  readonly hint?: string;
  /** The ajv error, when the problem is a schema violation. */
  readonly error?: ErrorObject;
}

/** The manifest whose schema a `kind` workload is checked against, or a problem. */
export function workloadProvider(
  catalog: PluginCatalog,
  kind: string,
  selection: { preset: PresetName; plugins: readonly string[]; without: readonly string[] },
): PluginManifest | WorkloadProblem {
  const declaring = catalog.list().filter((e) => e.manifest.workloads?.[kind]);
  if (!declaring.length) {
    const kinds = [...new Set(catalog.list().flatMap((e) => Object.keys(e.manifest.workloads ?? {})))].sort();
    const near = closest(kind, kinds);
    return {
      path: ['kind'],
      problem: `no installed plugin runs '${kind}' workloads`,
      hint: near ? `did you mean '${near}'?` : `workload kinds: ${kinds.join(', ') || 'none'}`,
    };
  }
  const selected = new Set([...PRESETS[selection.preset].filter((id) => !selection.without.includes(id)), ...selection.plugins]);
  const chosen = declaring.find((e) => selected.has(e.manifest.id)) ?? declaring[0];
  return chosen.manifest;
}

/**
 * Converts units in, validates and fills the defaults of one workload mapping (in
 * place) against its kind's schema; returns the problem, if any.
 */
export function resolveWorkload(manifest: PluginManifest, workload: Record<string, unknown>): WorkloadProblem | undefined {
  const kind = workload.kind as string;
  const decl = manifest.workloads![kind];
  let validate = compiled.get(decl);
  const schema = workloadObjectSchema(kind, decl);
  if (!validate) {
    validate = compileSchema(ajv, 'workload', schema);
    compiled.set(decl, validate);
  }
  try {
    coerceUnits(schema, workload);
  } catch (e) {
    return { path: (e as { path?: string[] }).path ?? [], problem: (e as Error).message };
  }
  if (validate(workload)) return undefined;
  const errors = validate.errors!;
  const e = errors.reduce((a, b) => (b.instancePath.length > a.instancePath.length ? b : a));
  const path: Array<string | number> = e.instancePath.split('/').slice(1);
  let hint: string | undefined;
  if (e.keyword === 'additionalProperties') {
    const key = (e.params as { additionalProperty: string }).additionalProperty;
    path.push(key);
    const known = Object.keys(path.length === 1 ? (schema.properties as object) : {});
    const near = closest(key, known);
    hint = known.length ? (near ? `did you mean '${near}'? ` : '') + `'${kind}' workloads take: ${known.join(', ')} (plugin ${manifest.id})` : undefined;
  }
  return { path, problem: '', error: e, hint };
}
