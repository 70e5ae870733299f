// Finds plugins on disk: every plugin.json below the given folders (plugins/ of the
// repository, and any folders a scenario names in `pluginPaths`), validated against
// plugin.schema.json, with a loader that imports the entry module on demand.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ManifestError, PluginCatalog, validateManifest, type CatalogEntry } from 'virtlab';

/** The repository root (this file lives in tools/node/). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const PLUGINS_DIR = path.join(REPO_ROOT, 'plugins');
export const HOSTS_DIR = path.join(REPO_ROOT, 'hosts');

/** Paths of every plugin.json below `dir`, sorted, skipping node_modules. */
export function findManifests(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name === 'plugin.json') out.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** Reads and validates one plugin folder's manifest into a catalog entry. */
export function readPluginFolder(folder: string): CatalogEntry {
  const dir = path.resolve(folder);
  const file = path.join(dir, 'plugin.json');
  if (!existsSync(file)) throw new ManifestError(`${dir} has no plugin.json`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ManifestError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const manifest = validateManifest(json, path.relative(process.cwd(), file) || file);
  const entryFile = path.join(dir, manifest.entry ?? 'index.ts');
  if (!existsSync(entryFile)) throw new ManifestError(`plugin '${manifest.id}' names entry ${manifest.entry ?? 'index.ts'}, which does not exist in ${dir}`);
  return {
    manifest,
    dir: path.relative(process.cwd(), dir) || dir,
    // require() goes through the TypeScript loader in use (tsx for the CLI, swc under
    // jest); the module loads once per process and is shared by its simulations.
    load: () => require(entryFile) as never,
  };
}

/** The catalog of plugins/ plus extra folders (each searched recursively). */
export function loadCatalog(extraDirs: readonly string[] = []): PluginCatalog {
  const catalog = new PluginCatalog();
  for (const dir of [PLUGINS_DIR, ...extraDirs]) {
    if (dir !== PLUGINS_DIR && !existsSync(dir)) throw new ManifestError(`plugin folder ${dir} does not exist`);
    for (const file of findManifests(dir)) catalog.add(readPluginFolder(path.dirname(file)));
  }
  return catalog;
}
