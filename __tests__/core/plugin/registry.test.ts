// Every refusal of the plugin registry, and the ordering and preset rules.
import { definePlugin } from '../../../core/plugin/define';
import { validateManifest, type PluginManifest } from '../../../core/plugin/manifest';
import { PluginCatalog, RegistryError, resolvePluginOptions, selectPlugins, type CatalogEntry } from '../../../core/plugin/registry';

function entry(id: string, extra: Partial<PluginManifest> = {}): CatalogEntry {
  const manifest = validateManifest(
    {
      id,
      version: '1.0.0',
      engine: '^0.1.0',
      description: `test plugin ${id}`,
      provides: [],
      options: {
        type: 'object',
        additionalProperties: false,
        properties: {
          rate: { type: 'number', minimum: 0, default: 1, unit: 'ns', description: 'a rate' },
          mode: { enum: ['a', 'b'], default: 'a', description: 'a mode' },
        },
      },
      ...extra,
    },
    `${id}/plugin.json`,
  );
  return { manifest, dir: `test/${id}`, load: () => definePlugin(() => {}) as never };
}

const catalog = () =>
  new PluginCatalog([
    entry('datacenter.racks', { provides: ['datacenter'] }),
    entry('network.flows', { provides: ['network'], requires: ['datacenter'] }),
    entry('placement.first-fit', { provides: ['placement'] }),
    entry('placement.worst-fit', { provides: ['placement'] }),
    entry('workload.synthetic', { provides: ['workload.synthetic'] }),
    entry('trace.events', { provides: ['trace'] }),
    entry('mmu.native', { provides: ['mmu'] }),
    entry('mmu.ssp', { provides: ['mmu'], requires: ['dirty-log'] }),
    entry('dirty-log.pml', { provides: ['dirty-log'], conflicts: ['mmu.native'] }),
    entry('future.thing', { engine: '^2.0.0' }),
  ]);

function refusal(fn: () => unknown): RegistryError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RegistryError) return e;
    throw e;
  }
  throw new Error('expected a RegistryError');
}

describe('selectPlugins', () => {
  it('starts from the default preset and applies option defaults', () => {
    const sel = selectPlugins(catalog(), {});
    expect(sel.map((s) => s.id)).toEqual(['datacenter.racks', 'network.flows', 'placement.first-fit', 'workload.synthetic', 'trace.events']);
    expect(sel[0].options).toEqual({ rate: 1, mode: 'a' });
  });

  // Defaults are resolved once per manifest and kept across simulations: each selection
  // must still get an object of its own. Mutation that breaks it: handing out the
  // cached defaults themselves.
  it('gives every selection its own copy of a preset plugin\'s defaults', () => {
    const cat = catalog();
    const a = selectPlugins(cat, {})[0].options;
    const b = selectPlugins(cat, {})[0].options;
    expect(b).toEqual(a);
    expect(b).not.toBe(a);
    expect(Object.isFrozen(b)).toBe(true);
  });

  it('lets a scenario plugin replace the preset provider of an exclusive capability', () => {
    const sel = selectPlugins(catalog(), { plugins: [{ id: 'placement.worst-fit' }] });
    expect(sel.map((s) => s.id)).toEqual(['datacenter.racks', 'network.flows', 'workload.synthetic', 'trace.events', 'placement.worst-fit']);
  });

  it('converts units and keeps given options', () => {
    const [s] = selectPlugins(catalog(), { preset: 'minimal', plugins: [{ id: 'mmu.native', options: { rate: '2us', mode: 'b' } }] });
    expect(s.options).toEqual({ rate: 2000, mode: 'b' });
  });

  it('refuses an unknown plugin and suggests the nearest id', () => {
    const e = refusal(() => selectPlugins(catalog(), { plugins: [{ id: 'placement.frist-fit' }] }));
    expect(e.message).toMatch(/unknown plugin 'placement.frist-fit'/);
    expect(e.hint).toMatch(/did you mean 'placement.first-fit'/);
  });

  it('refuses a capability used as an id and names its providers', () => {
    const e = refusal(() => selectPlugins(catalog(), { plugins: [{ id: 'mmu' }] }));
    expect(e.hint).toMatch(/mmu.native, mmu.ssp/);
  });

  it('refuses an unknown option, naming the plugin and the known options', () => {
    expect(() => selectPlugins(catalog(), { preset: 'minimal', plugins: [{ id: 'mmu.native', options: { rte: 1 } }] })).toThrow(
      /plugin 'mmu.native' has no option 'rte'/,
    );
  });

  it('refuses an option of the wrong type or out of range', () => {
    expect(() => selectPlugins(catalog(), { preset: 'minimal', plugins: [{ id: 'mmu.native', options: { rate: -1 } }] })).toThrow(
      /option 'rate' must be >= 0/,
    );
    expect(() => selectPlugins(catalog(), { preset: 'minimal', plugins: [{ id: 'mmu.native', options: { mode: 'c' } }] })).toThrow(
      /option 'mode' must be equal to one of the allowed values/,
    );
    expect(() => selectPlugins(catalog(), { preset: 'minimal', plugins: [{ id: 'mmu.native', options: { rate: '3 parsecs' } }] })).toThrow(
      /unknown unit 'parsecs'/,
    );
  });

  it('refuses a second provider of an exclusive capability', () => {
    const e = refusal(() =>
      selectPlugins(catalog(), { preset: 'minimal', plugins: [{ id: 'mmu.native' }, { id: 'mmu.ssp' }, { id: 'dirty-log.pml' }] }),
    );
    expect(e.message).toMatch(/'mmu.native' and 'mmu.ssp' both provide 'mmu'/);
  });

  it('refuses a missing requirement and names the plugins that would satisfy it', () => {
    const e = refusal(() => selectPlugins(catalog(), { preset: 'minimal', plugins: [{ id: 'mmu.ssp' }] }));
    expect(e.message).toMatch(/'mmu.ssp' requires 'dirty-log'/);
    expect(e.hint).toMatch(/dirty-log.pml/);
  });

  it('refuses conflicting plugins', () => {
    expect(() => selectPlugins(catalog(), { preset: 'minimal', plugins: [{ id: 'dirty-log.pml' }, { id: 'mmu.native' }] })).toThrow(
      /'dirty-log.pml' conflicts with 'mmu.native'/,
    );
  });

  it('refuses a plugin whose engine range does not match this engine', () => {
    expect(() => selectPlugins(catalog(), { preset: 'minimal', plugins: [{ id: 'future.thing' }] })).toThrow(/needs engine \^2.0.0/);
  });

  it('orders plugins after what they require', () => {
    const sel = selectPlugins(catalog(), { preset: 'minimal', plugins: [{ id: 'mmu.ssp' }, { id: 'dirty-log.pml' }] });
    expect(sel.map((s) => s.id)).toEqual(['dirty-log.pml', 'mmu.ssp']);
  });

  it('refuses a plugin listed twice, an unknown preset and a without that is not in the preset', () => {
    expect(() => selectPlugins(catalog(), { plugins: [{ id: 'mmu.native' }, { id: 'mmu.native' }] })).toThrow(/listed twice/);
    expect(() => selectPlugins(catalog(), { preset: 'maximal' as never })).toThrow(/unknown preset/);
    expect(() => selectPlugins(catalog(), { preset: 'minimal', without: ['trace.events'] })).toThrow(/not in the 'minimal' preset/);
    expect(selectPlugins(catalog(), { without: ['trace.events'] }).map((s) => s.id)).not.toContain('trace.events');
  });

  it('refuses two plugins with one id in the catalog', () => {
    const c = catalog();
    expect(() => c.add(entry('mmu.native'))).toThrow(/two plugins have the id 'mmu.native'/);
  });
});

describe('validateManifest', () => {
  const base = {
    id: 'a.b',
    version: '1.0.0',
    engine: '^0.1.0',
    description: 'a test plugin',
    provides: [],
    options: { type: 'object', additionalProperties: false, properties: {} },
  };

  it('accepts a complete manifest', () => {
    expect(validateManifest(base, 'x').id).toBe('a.b');
  });

  it('refuses a bad id, a missing field, an unknown field, and an option without a default or description', () => {
    expect(() => validateManifest({ ...base, id: 'NoArea' }, 'x/plugin.json')).toThrow(/x\/plugin.json[\s\S]*id: must match pattern/);
    const { version: _v, ...noVersion } = base;
    expect(() => validateManifest(noVersion, 'x')).toThrow(/missing required property 'version'/);
    expect(() => validateManifest({ ...base, colour: 'red' }, 'x')).toThrow(/unknown property 'colour'/);
    expect(() =>
      validateManifest({ ...base, options: { type: 'object', properties: { n: { type: 'number', description: 'n' } } } }, 'x'),
    ).toThrow(/options.properties.n: missing required property 'default'/);
    expect(() =>
      validateManifest({ ...base, options: { type: 'object', properties: { n: { type: 'number', default: 1 } } } }, 'x'),
    ).toThrow(/missing required property 'description'/);
  });
});

describe('PluginCatalog.from', () => {
  const json = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    version: '1.0.0',
    engine: '^0.1.0',
    description: 'a found plugin',
    provides: [],
    options: { type: 'object', additionalProperties: false, properties: {} },
    ...extra,
  });
  const modules = new Map([['found/a/index.ts', () => definePlugin(() => {}) as never], ['found/b/main.ts', () => definePlugin(() => {}) as never]]);
  const loader = (p: string) => modules.get(p);

  it('makes entries from found manifests, with their folder and the entry they name', () => {
    const c = PluginCatalog.from([
      { file: 'found/a/plugin.json', json: json('x.a'), loader },
      { file: 'found/b/plugin.json', json: json('x.b', { entry: 'main.ts' }), loader },
    ], {});
    expect(c.list().map((e) => [e.manifest.id, e.dir])).toEqual([
      ['x.a', 'found/a'],
      ['x.b', 'found/b'],
    ]);
  });

  it('refuses an invalid manifest or a missing entry module, naming the file', () => {
    expect(() => PluginCatalog.from([{ file: 'found/c/plugin.json', json: { ...json('x.c'), version: undefined }, loader }], {})).toThrow(/found\/c\/plugin.json/);
    expect(() => PluginCatalog.from([{ file: 'found/c/plugin.json', json: json('x.c'), loader }], {})).toThrow(/'x.c' names entry index.ts, which does not exist in found\/c/);
  });
});

describe('resolvePluginOptions', () => {
  it('resolves written options into frozen effective ones, and takes its own result as it is', () => {
    const { manifest } = entry('a.b');
    const once = resolvePluginOptions(manifest, { rate: '2us' });
    expect(once).toEqual({ rate: 2000, mode: 'a' });
    expect(Object.isFrozen(once)).toBe(true);
    expect(resolvePluginOptions(manifest, once)).toBe(once);
    // An equal object that did not come from it is resolved (and checked) again.
    expect(resolvePluginOptions(manifest, { ...once })).not.toBe(once);
    // The result for one manifest is not taken as resolved for another.
    expect(() => resolvePluginOptions(entry('c.d', { options: { type: 'object', additionalProperties: false, properties: {} } }).manifest, once)).toThrow(/has no option 'rate'/);
  });
});
