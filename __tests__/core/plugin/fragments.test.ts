// Shared option fragments: manifests reference an option schema that core defines
// instead of copying it, and the reference expands before validation.
import { OPTION_FRAGMENTS, validateManifest } from '../../../core/option-fragments';
import { ManifestError, resolveOptions } from '../../../core/plugin/manifest';
import { loadCatalog } from '../../../tools/node/catalog';

const base = { id: 'mmu.toy', version: '1.0.0', engine: '^0.1.0', description: 'a toy strategy for tests', provides: ['mmu'] };

describe('option fragments', () => {
  it('expand a referenced option to the fragment core defines', () => {
    const m = validateManifest({ ...base, options: { type: 'object', properties: { pageWalkCache: { $ref: 'virtlab:mmu#/pageWalkCache' } } } }, 'toy/plugin.json');
    expect(m.options.properties.pageWalkCache).toEqual((OPTION_FRAGMENTS.mmu as Record<string, unknown>).pageWalkCache);
    expect(resolveOptions(m, {})).toEqual({ pageWalkCache: false });
  });

  it('let keys beside the reference override the fragment', () => {
    const m = validateManifest(
      { ...base, options: { type: 'object', properties: { pageWalkCache: { $ref: 'virtlab:mmu#/pageWalkCache', default: true } } } },
      'toy/plugin.json',
    );
    expect(m.options.properties.pageWalkCache.default).toBe(true);
    expect(m.options.properties.pageWalkCache.description).toMatch(/page-walk cache/);
  });

  it('take a whole options object and merge the manifest’s own options into it', () => {
    const m = validateManifest(
      {
        ...base,
        provides: ['migration.method'],
        options: { $ref: 'virtlab:migration#/method', properties: { extra: { type: 'integer', default: 3, description: 'an extra knob' } } },
      },
      'toy/plugin.json',
    );
    expect(Object.keys(m.options.properties)).toEqual(expect.arrayContaining(['bandwidth', 'downtimeLimit', 'extra']));
    expect(resolveOptions(m, { bandwidth: '100Mbit/s' })).toMatchObject({ bandwidth: 1e8, extra: 3, maxRounds: 30 });
  });

  it('refuse an unknown group with the nearest name', () => {
    expect(() => validateManifest({ ...base, options: { type: 'object', properties: { x: { $ref: 'virtlab:mmus#/pageWalkCache' } } } }, 'toy/plugin.json')).toThrow(
      /toy\/plugin.json\/options\/properties\/x: no option fragment group 'mmus' \(did you mean 'mmu'\?/,
    );
  });

  it('refuse a pointer that names nothing', () => {
    expect(() => validateManifest({ ...base, options: { type: 'object', properties: { x: { $ref: 'virtlab:mmu#/pageWalkCach' } } } }, 'toy/plugin.json')).toThrow(
      /names nothing: no 'pageWalkCach' \(did you mean 'pageWalkCache'\?\)/,
    );
  });

  it('refuse a manifest whose option has neither a reference nor a default', () => {
    expect(() => validateManifest({ ...base, options: { type: 'object', properties: { x: { type: 'number', description: 'x' } } } }, 'toy/plugin.json')).toThrow(
      ManifestError,
    );
  });

  it('give pre-copy and post-copy one set of options, written once', () => {
    const catalog = loadCatalog();
    const pre = catalog.require('migration.precopy').manifest.options;
    const post = catalog.require('migration.postcopy').manifest.options;
    expect(pre).toEqual(post);
    expect(pre).toEqual(OPTION_FRAGMENTS.migration && (OPTION_FRAGMENTS.migration as Record<string, unknown>).method);
  });

  it('give every MMU strategy that has a page-walk cache the same option', () => {
    const catalog = loadCatalog();
    const withPwc = catalog.providersOf('mmu').map((id) => catalog.require(id).manifest.options.properties.pageWalkCache).filter(Boolean);
    expect(withPwc.length).toBeGreaterThanOrEqual(6);
    for (const o of withPwc) expect(o).toEqual((OPTION_FRAGMENTS.mmu as Record<string, unknown>).pageWalkCache);
  });
});
