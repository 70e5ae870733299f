// Generates what is derived from the plugin manifests, so that it cannot drift:
// - plugins/**/options.ts: the TypeScript type of each plugin's options;
// - plugins/README.md: the plugin catalog;
// - scenarios/scenario.schema.json and hosts/host.schema.json, for editors.
// `npm run gen` writes them; `npm run gen -- --check` (and a test) fails when a
// committed file differs from what the manifests say.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CAPABILITIES, type PluginManifest } from 'virtlab';
import { HOST_PROFILE_SCHEMA } from '../../core/models/datacenter/host-profile';
import { composeScenarioSchema } from '../../core/scenario/schema';
import { dimensionOf } from '../../core/units/units';
import { findManifests, PLUGINS_DIR, readPluginFolder, REPO_ROOT } from '../node/catalog';

type Schema = {
  type?: string | string[];
  enum?: readonly unknown[];
  const?: unknown;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: readonly string[];
  description?: string;
  unit?: string;
  default?: unknown;
};

/** The TypeScript type of a JSON Schema (the subset option schemas use). */
export function schemaToType(s: Schema, indent = ''): string {
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  const types = Array.isArray(s.type) ? s.type : [s.type];
  return types
    .map((t) => {
      switch (t) {
        case 'number':
        case 'integer':
          return 'number';
        case 'string':
          return 'string';
        case 'boolean':
          return 'boolean';
        case 'null':
          return 'null';
        case 'array':
          return `ReadonlyArray<${s.items ? schemaToType(s.items, indent) : 'unknown'}>`;
        case 'object':
          if (!s.properties) return 'Readonly<Record<string, unknown>>';
          return `{\n${Object.entries(s.properties)
            .map(([k, v]) => `${indent}  readonly ${JSON.stringify(k)}: ${schemaToType(v, indent + '  ')};`)
            .join('\n')}\n${indent}}`;
        default:
          return 'unknown';
      }
    })
    .join(' | ');
}

/** options.ts of a plugin: its options type. `command` is what regenerates it (named in the header). */
export function optionsModule(m: PluginManifest, command = 'npm run gen'): string {
  const lines = [
    `// Options of plugin ${m.id}, generated from its plugin.json by \`${command}\`: do not edit.`,
    `// Every option has its default applied before the plugin sees it.`,
    '',
    'export interface Options {',
  ];
  for (const [name, o] of Object.entries(m.options.properties)) {
    const unit = o.unit ? ` Unit: ${o.unit}.` : '';
    lines.push(`  /** ${o.description}${unit} Default: ${JSON.stringify(o.default)}. */`);
    lines.push(`  readonly ${/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name)}: ${schemaToType(o as Schema, '  ')};`);
  }
  lines.push('}', '');
  return lines.join('\n');
}

export function catalogMarkdown(manifests: PluginManifest[], dirs: Map<string, string>): string {
  const lines = [
    '<!-- Generated from the plugin manifests by `npm run gen`: do not edit. -->',
    '# Plugin catalog',
    '',
    'Every technique and every baseline is a plugin. A scenario selects plugins under',
    '`plugins:` by id; plugins that provide the same exclusive capability replace each',
    'other. `virtlab plugins` prints this catalog too.',
    '',
    '| plugin | provides | description |',
    '|---|---|---|',
  ];
  for (const m of manifests) {
    const caps = m.provides.map((c) => (CAPABILITIES[c]?.exclusive ? `${c} (exclusive)` : c)).join(', ');
    lines.push(`| [\`${m.id}\`](${dirs.get(m.id)}) | ${caps} | ${m.description.replace(/\|/g, '\\|')} |`);
  }
  for (const m of manifests) {
    lines.push('', `## ${m.id} ${m.version}`, '', m.description, '');
    if (m.reproduces) lines.push(`Reproduces: ${m.reproduces}`, '');
    if (m.requires?.length) lines.push(`Requires: ${m.requires.join(', ')}`, '');
    if (m.conflicts?.length) lines.push(`Conflicts with: ${m.conflicts.join(', ')}`, '');
    const opts = Object.entries(m.options.properties);
    if (!opts.length) {
      lines.push('No options.');
      continue;
    }
    lines.push('| option | default | unit | description |', '|---|---|---|---|');
    for (const [name, o] of opts) lines.push(`| \`${name}\` | \`${JSON.stringify(o.default)}\` | ${o.unit ?? ''} | ${o.description} |`);
  }
  return lines.join('\n') + '\n';
}

/**
 * A schema for editors: where a number takes a unit ("300ms", "4GiB"), a string is
 * accepted too, as the loaders convert it before validating.
 */
export function editorSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(editorSchema);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = editorSchema(v);
  if (typeof out.unit === 'string' && dimensionOf(out.unit) && (out.type === 'number' || out.type === 'integer')) {
    out.type = [out.type, 'string'];
  }
  return out;
}

/** Every generated file and its expected contents. */
export function generatedFiles(): Map<string, string> {
  const out = new Map<string, string>();
  const manifests: PluginManifest[] = [];
  const dirs = new Map<string, string>();
  for (const file of findManifests(PLUGINS_DIR)) {
    const dir = path.dirname(file);
    const { manifest } = readPluginFolder(dir);
    manifests.push(manifest);
    dirs.set(manifest.id, path.relative(PLUGINS_DIR, dir) + '/');
    out.set(path.join(dir, 'options.ts'), optionsModule(manifest));
  }
  manifests.sort((a, b) => (a.id < b.id ? -1 : 1));
  out.set(path.join(PLUGINS_DIR, 'README.md'), catalogMarkdown(manifests, dirs));
  // Schemas for editors (e.g. `# yaml-language-server: $schema=scenario.schema.json`):
  // the scenario schema composed with every installed plugin's options.
  const header = { $comment: 'Generated by `npm run gen` from core/ and the plugin manifests: do not edit.' };
  out.set(
    path.join(REPO_ROOT, 'scenarios', 'scenario.schema.json'),
    JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...header, ...(editorSchema(composeScenarioSchema(manifests)) as object) }, null, 2) + '\n',
  );
  out.set(
    path.join(REPO_ROOT, 'hosts', 'host.schema.json'),
    JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...header, ...(editorSchema(HOST_PROFILE_SCHEMA) as object) }, null, 2) + '\n',
  );
  return out;
}

/** Files whose contents differ from what generation would write. */
export function staleFiles(): string[] {
  const stale: string[] = [];
  for (const [file, text] of generatedFiles()) {
    if (!existsSync(file) || readFileSync(file, 'utf8') !== text) stale.push(path.relative(REPO_ROOT, file));
  }
  return stale;
}

if (require.main === module) {
  const check = process.argv.includes('--check');
  if (check) {
    const stale = staleFiles();
    if (stale.length) {
      console.error(`out of date (run npm run gen): ${stale.join(', ')}`);
      process.exit(1);
    }
    console.log('generated files are up to date');
  } else {
    for (const [file, text] of generatedFiles()) writeFileSync(file, text);
    console.log('wrote plugins/**/options.ts, plugins/README.md, scenarios/scenario.schema.json and hosts/host.schema.json');
  }
}
