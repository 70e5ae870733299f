// The build's cache of validated manifests (tools/node/catalog.ts, written into
// dist/<key>/manifests.json by tools/build/manifests.js): what it holds is what
// validation makes of each manifest of plugins/, and the catalog takes a cached
// manifest only for the very text it was validated from (compared whole) — an
// edited manifest is validated again (and its errors reported).
// Mutations that must break it: dropping the `cached.text === text`
// condition in foundOnDisk; writing the raw JSON instead of the validated manifest
// into the cache.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadCatalog, manifestCacheJson, parseManifestCache, PLUGINS_DIR, REPO_ROOT } from '../../tools/node/catalog';

describe('cache of validated manifests', () => {
  const fresh = loadCatalog([], new Map());
  const cache = parseManifestCache(manifestCacheJson());

  it('holds every manifest of plugins/ as validation makes it', () => {
    expect(cache.size).toBe(fresh.list().length);
    for (const e of fresh.list()) {
      const rel = path.relative(REPO_ROOT, path.join(path.resolve(e.dir), 'plugin.json'));
      // Through JSON, as the build writes it: nothing validation made may be lost.
      expect(cache.get(rel)?.manifest).toStrictEqual(JSON.parse(JSON.stringify(e.manifest)));
      expect(JSON.parse(JSON.stringify(e.manifest))).toStrictEqual(e.manifest);
    }
  });

  it('is used for an unchanged text only', () => {
    const rel = path.relative(REPO_ROOT, path.join(PLUGINS_DIR, 'dbt', 'instrew', 'plugin.json'));
    const text = readFileSync(path.join(REPO_ROOT, rel), 'utf8');
    const marked = (t: string) => new Map([[rel, { text: t, manifest: { ...cache.get(rel)!.manifest, description: 'from the cache' } }]]);
    expect(loadCatalog([], marked(text)).get('dbt.instrew')!.manifest.description).toBe('from the cache');
    // The text differs (the manifest was edited since the build): validated afresh.
    expect(loadCatalog([], marked(text + ' ')).get('dbt.instrew')!.manifest.description).toBe(fresh.get('dbt.instrew')!.manifest.description);
  });
});
