// Finds plugins on disk: every plugin.json below the given folders (plugins/ of the
// repository, and any folders a scenario names in `pluginPaths` or a command in
// `--plugin-path`), validated against plugin.schema.json, with a loader that imports
// the entry module on demand. Plugins outside the repository import 'virtlab' like
// those inside; the resolver hook below points that name at this checkout's core.

import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { ManifestError, OPTION_FRAGMENTS, PluginCatalog, catalogEntry, type CatalogEntry, type FoundPlugin, type PluginManifest } from 'virtlab';
import { BUILD_ROOT, REPO_ROOT, runnableFile } from './repo-root';

export { REPO_ROOT };
export const PLUGINS_DIR = path.join(REPO_ROOT, 'plugins');
export const HOSTS_DIR = path.join(REPO_ROOT, 'hosts');
/** The public API that plugins import as 'virtlab'. */
export const API_ENTRY = path.join(REPO_ROOT, 'core', 'index.ts');
/** Test helpers that plugin tests import as 'virtlab/testing'. */
export const TESTING_ENTRY = path.join(REPO_ROOT, 'tools', 'node', 'testing.ts');

/**
 * Makes TypeScript plugin folders from outside the repository loadable when this
 * process runs compiled code (the virtlab command): they are the user's code, compiled
 * on the fly by tsx. Under jest or tsx a loader is already in place. Installed once.
 */
let typescriptLoader = false;
function loadTypeScriptOnTheFly(): void {
  if (typescriptLoader || !BUILD_ROOT) return;
  typescriptLoader = true;
  (require('tsx/cjs/api') as { register: () => void }).register();
}

/**
 * Lets a plugin folder anywhere on disk `import … from 'virtlab'`: Node's resolver
 * only finds the package from inside the repository, so the name is mapped to this
 * checkout's core here (jest does the same with moduleNameMapper). Installed once.
 */
function resolveVirtlabAnywhere(): void {
  type Resolve = (request: string, ...rest: unknown[]) => string;
  const M = Module as unknown as { _resolveFilename: Resolve & { virtlab?: true } };
  if (M._resolveFilename.virtlab) return;
  const original = M._resolveFilename;
  // From a build, the compiled core: the one instance this process already runs; and
  // the packages the build bundles (tools/build/build.js), so that a plugin importing
  // inversify or tapable itself shares the core's copy.
  const api = runnableFile(API_ENTRY);
  const testing = runnableFile(TESTING_ENTRY);
  const build = BUILD_ROOT;
  const vendored = new Map(build ? ['inversify', 'ajv', 'tapable', 'yaml', 'semver', 'bitecs'].map((n) => [n, path.join(build, 'vendor', `${n}.js`)]) : []);
  const patched: Resolve & { virtlab?: true } = (request, ...rest) => {
    if (request === 'virtlab') return api;
    if (request === 'virtlab/testing') return testing;
    const bundled = vendored.get(request);
    if (bundled !== undefined && existsSync(bundled)) return bundled;
    return original(request, ...rest);
  };
  patched.virtlab = true;
  M._resolveFilename = patched;
}

/** Paths of every plugin.json below `dir`, sorted, skipping node_modules. */
export function findManifests(dir: string): string[] {
  const out: string[] = [];
  // Folders already walked, by real path: a link back up the tree is walked once.
  const seen = new Set<string>();
  const walk = (d: string, real: string) => {
    if (seen.has(real)) return;
    seen.add(real);
    const entries = readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const name = e.name;
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const p = join(d, name);
      // The entry's own type, without a stat: only a symbolic link (or a file system
      // that does not say) needs one, and only a link can lead to a folder seen before.
      if (e.isDirectory()) walk(p, join(real, name));
      else if (e.isFile()) {
        if (name === 'plugin.json') out.push(p);
      } else {
        let isDir: boolean;
        try {
          isDir = statSync(p).isDirectory();
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ELOOP') throw new ManifestError(`${p} in plugin folder ${dir} is a loop of symbolic links (ELOOP)`);
          if (code === 'ENOENT') continue; // a dangling link: nothing to load
          throw new ManifestError(`cannot read ${p} in plugin folder ${dir}: ${code ?? (err as Error).message}`);
        }
        // The native call: one system call, where the JavaScript one walks every component.
        if (isDir) walk(p, realpathSync.native(p));
        else if (name === 'plugin.json') out.push(p);
      }
    }
  };
  if (existsSync(dir)) walk(path.normalize(dir), realpathSync.native(dir));
  return out;
}

/** path.relative for a file below `base` by slicing (the common case), else path.relative. */
function relativeTo(base: string, file: string): string {
  return file.startsWith(base + path.sep) ? file.slice(base.length + 1) : path.relative(base, file);
}

/**
 * path.join of a normalized folder and one name, without normalizing again (which,
 * for every entry of the plugin folders, cost more than reading them).
 */
function join(dir: string, name: string): string {
  if (dir === '.') return name;
  return dir.endsWith(path.sep) ? dir + name : dir + path.sep + name;
}

/**
 * The repository's manifests as the build validated them (dist/<key>/manifests.json,
 * written by tools/build/manifests.js): by plugin.json path relative to the
 * repository, the text it was validated from and the validated manifest. Validating
 * every manifest (and compiling its option schema) is most of what reading the catalog
 * costs; the build already did it with the same code, so a manifest whose text is
 * unchanged is taken as validated. Any other (edited, added, from outside) is
 * validated as usual. (The text itself, compared whole: a digest made the file half
 * the size, but computing one cost more than reading the other half, whether in
 * JavaScript or through node:crypto, whose loading alone took about 10 ms.)
 */
export const MANIFEST_CACHE = 'manifests.json';
export type ManifestCache = ReadonlyMap<string, { readonly text: string; readonly manifest: PluginManifest }>;

let manifestCache: ManifestCache | undefined;
function builtManifests(): ManifestCache {
  if (manifestCache) return manifestCache;
  if (!BUILD_ROOT) return (manifestCache = new Map());
  try {
    manifestCache = parseManifestCache(readFileSync(path.join(BUILD_ROOT, MANIFEST_CACHE), 'utf8'));
  } catch {
    // No cache (a build made without its extras): every manifest is validated.
    manifestCache = new Map();
  }
  return manifestCache;
}

/** The cache written by manifestCacheJson, read back. */
export function parseManifestCache(json: string): ManifestCache {
  return new Map(Object.entries(JSON.parse(json) as Record<string, { text: string; manifest: PluginManifest }>));
}

/** The cache of manifests validated from the texts of plugins/ now, as JSON (see builtManifests). */
export function manifestCacheJson(): string {
  const out: Record<string, { text: string; manifest: PluginManifest }> = {};
  for (const file of findManifests(PLUGINS_DIR)) {
    const text = readFileSync(file, 'utf8');
    let entry: CatalogEntry;
    try {
      entry = readPluginFolder(path.dirname(file));
    } catch {
      continue; // An invalid manifest is validated (and reported) when it is read.
    }
    out[path.relative(REPO_ROOT, file)] = { text, manifest: entry.manifest };
  }
  return JSON.stringify(out);
}

/** A plugin folder on disk, as the catalog takes it: its manifest read, its entry required on demand. */
function foundOnDisk(folder: string, cache?: ManifestCache, resolved = false): FoundPlugin {
  // `resolved`: an absolute, normalized path already (as findManifests gives them).
  const dir = resolved ? folder : path.resolve(folder);
  const file = join(dir, 'plugin.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ManifestError(`${dir} has no plugin.json`);
    throw new ManifestError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const cached = cache?.get(relativeTo(REPO_ROOT, file));
  // Only for the very text the build validated.
  const validated = cached && cached.text === text ? cached.manifest : undefined;
  let json: unknown;
  if (!validated) {
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new ManifestError(`${file} is not valid JSON: ${(e as Error).message}`);
    }
  }
  const shown = relativeTo(process.cwd(), file) || file;
  const shownDir = shown.slice(0, -'plugin.json'.length);
  return {
    file: shown,
    // Parsed when asked for: a validated manifest needs no second parse.
    get json() {
      return (json ??= JSON.parse(text));
    },
    ...(validated ? { validated } : {}),
    loader: (entryPath) => {
      // The entry beside plugin.json by a plain name (the usual case) needs no path.resolve.
      const name = entryPath.startsWith(shownDir) ? entryPath.slice(shownDir.length) : '';
      const entryFile = /^[\w-][\w.-]*$/.test(name) ? join(dir, name) : path.resolve(entryPath);
      if (!existsSync(entryFile)) return undefined;
      // A plugin of the repository runs from the build when this process does (the
      // virtlab command); others go through the TypeScript loader in use (swc under
      // jest, tsx otherwise). The module loads once per process and is shared by its
      // simulations.
      return () => {
        resolveVirtlabAnywhere();
        const runnable = runnableFile(entryFile);
        if (runnable === entryFile && /\.[cm]?tsx?$/.test(entryFile)) loadTypeScriptOnTheFly();
        return require(runnable) as never;
      };
    },
  };
}

/** Reads and validates one plugin folder's manifest into a catalog entry. */
export function readPluginFolder(folder: string): CatalogEntry {
  return catalogEntry(foundOnDisk(folder), OPTION_FRAGMENTS);
}

/**
 * The catalog of plugins/ plus extra folders (each searched recursively); `manifests`
 * holds the manifests of plugins/ validated before (by default, the build's).
 */
export function loadCatalog(extraDirs: readonly string[] = [], manifests: ManifestCache = builtManifests()): PluginCatalog {
  const found: FoundPlugin[] = [];
  for (const dir of [PLUGINS_DIR, ...extraDirs]) {
    if (dir !== PLUGINS_DIR && !existsSync(dir)) throw new ManifestError(`plugin folder ${dir} does not exist`);
    // Only the repository's own plugins have manifests the build validated.
    const cache = dir === PLUGINS_DIR ? manifests : undefined;
    const absolute = path.isAbsolute(dir);
    for (const file of findManifests(dir)) found.push(foundOnDisk(path.dirname(file), cache, absolute));
  }
  return PluginCatalog.from(found, OPTION_FRAGMENTS);
}
