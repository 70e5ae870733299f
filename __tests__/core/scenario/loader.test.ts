// The scenario loader's errors: each names the file, line and column, the path in
// the document, what was expected, and a hint where there is one. The bad scenarios
// are variants of a good one made with the builder; where an error must point is
// found in the text the builder wrote.
import { isEffectiveConfig, loadScenario, readScenarioDocument, ScenarioError, selectPlugins } from 'virtlab';
import { scenario, type ScenarioBuilder } from '../../../core/scenario/builder';
import { parseQuantity } from '../../../core/units/units';
import { scenarioFromText, type ScenarioSource } from '../../../tools/node/testing';

const good = scenario('t')
  .duration('1s')
  .tick('10ms')
  .hosts({ profile: 'x86-64-server', racks: 1, perRack: 2 })
  .vms({ count: 2, memory: '1GiB', workload: { kind: 'synthetic', writesPerSecond: 100 } })
  .plugin('placement.first-fit', { cpuOvercommit: 2 });

/** Line and column (1-based) where `written` starts in the builder's text. */
function where(b: ScenarioBuilder, written: string): [number, number] {
  const lines = b.toYaml().split('\n');
  const line = lines.findIndex((l) => l.includes(written));
  if (line < 0) throw new Error(`'${written}' is not in:\n${b.toYaml()}`);
  return [line + 1, lines[line].indexOf(written) + 1];
}

function loadError(source: ScenarioSource): ScenarioError {
  try {
    scenarioFromText(source, {}, 'bad.scenario.yaml');
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('expected a ScenarioError');
}

describe('the scenario loader', () => {
  it('loads a good scenario, with units converted and defaults applied', () => {
    const { scenario } = scenarioFromText(good);
    expect(scenario.duration).toBe(1e9);
    expect(scenario.tick).toBe(1e7);
    expect(scenario.seed).toBe(1);
    expect(scenario.vms[0].memory).toBe(2 ** 30);
    expect(scenario.hosts[0].profile.cpu.frequency).toBe(2.1e9);
    expect(scenario.record.every).toBe(1e7);
  });

  it('reports malformed YAML at its line and column', () => {
    const e = loadError('name: t\nduration: [1s\n');
    expect(e.file).toBe('bad.scenario.yaml');
    expect(e.line).toBeGreaterThanOrEqual(2);
    expect(e.message).toMatch(/^bad.scenario.yaml:\d+:\d+: not valid YAML/);
  });

  it('reports a value of the wrong type at its line, with its path', () => {
    const bad = good.set('vms.0.count', 'two');
    const e = loadError(bad);
    expect([e.line, e.column, e.path]).toEqual([...where(bad, 'two'), 'vms.0.count']);
    expect(e.problem).toMatch(/must be integer/);
  });

  it('reports a bad unit with the accepted units', () => {
    const bad = good.vm(0, { memory: '1 furlong' });
    const e = loadError(bad);
    expect(e.path).toBe('vms.0.memory');
    expect(e.line).toBe(where(bad, '1 furlong')[0]);
    expect(e.problem).toMatch(/unknown unit 'furlong'.*GiB/);
  });

  it('reports an unknown top-level key with a suggestion', () => {
    const e = loadError(good.set('duraton', '1s'));
    expect(e.path).toBe('duraton');
    expect(e.hint).toMatch(/did you mean 'duration'/);
  });

  it('reports an unknown plugin at its key, with the nearest id', () => {
    const bad = good.swapPlugin('placement.first-fit', 'placement.firstfit', { cpuOvercommit: 2 });
    const e = loadError(bad);
    expect([e.line, e.path]).toEqual([where(bad, 'placement.firstfit:')[0], 'plugins.placement.firstfit']);
    expect(e.hint).toMatch(/did you mean 'placement.first-fit'/);
  });

  it('reports an unknown plugin option at its line, with the options there are', () => {
    const bad = good.plugin('placement.first-fit', { cpuOvercommitt: 2 });
    const e = loadError(bad);
    expect(e.line).toBe(where(bad, 'cpuOvercommitt')[0]);
    expect(e.problem).toMatch(/has no option 'cpuOvercommitt'/);
    expect(e.hint).toMatch(/did you mean 'cpuOvercommit'/);
  });

  it('reports an invalid plugin option value with its description and default', () => {
    const e = loadError(good.pluginOptions('placement.first-fit', { cpuOvercommit: 0.5 }));
    expect(e.problem).toMatch(/option 'cpuOvercommit' must be >= 1/);
    expect(e.hint).toMatch(/vCPUs a host may promise per hardware thread.*default 1/);
  });

  it('reports a missing host profile with the known ones', () => {
    const bad = good.host(0, { profile: 'x86-64-sever' });
    const e = loadError(bad);
    expect([e.line, e.path]).toEqual([where(bad, 'x86-64-sever')[0], 'hosts.0.profile']);
    expect(e.hint).toMatch(/did you mean 'x86-64-server'/);
  });

  it('reports a missing required key and a bad workload field', () => {
    expect(loadError('name: t\n').problem).toMatch(/missing required property 'duration'/);
    const e = loadError(good.workload(0, { distribution: 'pareto' }));
    expect(e.path).toBe('vms.0.workload.distribution');
    expect(e.problem).toMatch(/must be one of "uniform", "zipf", "sequential"/);
  });

  it('applies --set overrides and --seed before validation', () => {
    const { scenario } = scenarioFromText(good, {
      seed: 9,
      set: [
        { path: 'duration', value: '2s' },
        { path: 'plugins.placement.first-fit.cpuOvercommit', value: 3 },
        { path: 'plugins.placement.worst-fit', value: null },
      ],
    });
    expect(scenario.duration).toBe(2e9);
    expect(scenario.seed).toBe(9);
    expect(scenario.plugins).toEqual([
      { id: 'placement.first-fit', options: { cpuOvercommit: 3, memoryOvercommit: 1 } },
      { id: 'placement.worst-fit', options: { cpuOvercommit: 1, memoryOvercommit: 1 } },
    ]);
  });

  it('resolves plugin options once: selection at boot takes the loader\'s result as it is', () => {
    const { scenario, catalog } = scenarioFromText(good);
    const written = scenario.plugins[0].options;
    expect(Object.isFrozen(written)).toBe(true);
    const [selected] = selectPlugins(catalog, { preset: 'headless', plugins: scenario.plugins }).filter((p) => p.id === 'placement.first-fit');
    expect(selected.options).toBe(written);
    // Options written by hand (a scenario built in code) are still resolved at selection.
    const [byHand] = selectPlugins(catalog, { preset: 'headless', plugins: [{ id: 'placement.first-fit', options: { cpuOvercommit: 2 } }] }).filter((p) => p.id === 'placement.first-fit');
    expect(byHand.options).toEqual({ cpuOvercommit: 2, memoryOvercommit: 1 });
  });
});

describe('a run\'s config.json read as a scenario', () => {
  const config = {
    virtlab: '0.1.0',
    scenario: {
      name: 'again',
      file: 'x.scenario.yaml',
      description: 'd',
      seed: 7,
      tickNs: 1e6,
      durationNs: 2e6,
      preset: 'default',
      without: ['trace.events'],
      dir: '/somewhere',
      pluginPaths: [],
      files: {},
      topology: { oversubscription: 1 },
      hosts: [{ name: 'h', racks: 1, perRack: 2, profile: { id: 'embedded-only' } }],
      vms: [{ name: 'v', count: 1, vcpus: 1, memory: 2 ** 30, arrival: 0 }],
      record: { every: 1e6, series: [] },
      expect: [{ metric: 'dc.vms.running', min: 1, max: 1 }],
    },
    plugins: [
      { id: 'placement.first-fit', version: '0.1.0', source: 'preset', options: { cpuOvercommit: 1, memoryOvercommit: 1 } },
      { id: 'placement.worst-fit', version: '0.1.0', source: 'scenario', options: { cpuOvercommit: 2, memoryOvercommit: 1 } },
    ],
    systems: [],
  };

  it('is recognized by its shape and turned back into the document it was resolved from', () => {
    expect(isEffectiveConfig(config)).toBe(true);
    expect(isEffectiveConfig({ name: 'x', duration: '1s' })).toBe(false);
    const { doc, hostProfiles, dir } = readScenarioDocument(JSON.stringify(config), 'results/x/config.json');
    expect(dir).toBe('/somewhere');
    expect(hostProfiles.get('embedded-only')).toEqual({ id: 'embedded-only' });
    expect(doc.data).toMatchObject({
      name: 'again',
      seed: 7,
      tick: 1e6,
      duration: 2e6,
      preset: 'default',
      without: ['trace.events'],
      hosts: [{ name: 'h', profile: 'embedded-only', racks: 1, perRack: 2 }],
      // The preset's own plugins come from the preset again; the scenario's keep their options.
      plugins: { 'placement.worst-fit': { cpuOvercommit: 2, memoryOvercommit: 1 } },
      expect: { 'dc.vms.running': { min: 1, max: 1 } },
    });
  });

  it('resolves with the host profiles it embeds, before those on disk', () => {
    const { catalog } = scenarioFromText(good);
    const profile = scenarioFromText(good).scenario.hosts[0].profile;
    const withProfile = { ...config, scenario: { ...config.scenario, hosts: [{ name: 'h', racks: 1, perRack: 2, profile: { ...profile, id: 'my-box' } }] } };
    const scenario = loadScenario(JSON.stringify(withProfile), 'config.json', { catalog, hostProfiles: new Map() });
    expect(scenario.hosts[0].profile.id).toBe('my-box');
    expect(scenario.dir).toBe('/somewhere');
    expect(scenario.plugins).toEqual([{ id: 'placement.worst-fit', options: { cpuOvercommit: 2, memoryOvercommit: 1 } }]);
  });
});

describe('quantities', () => {
  it('parse with their units into base units', () => {
    expect(parseQuantity('4GiB', 'bytes')).toBe(4 * 2 ** 30);
    expect(parseQuantity('300ms', 'ns')).toBe(3e8);
    expect(parseQuantity('2.6GHz', 'Hz')).toBe(2.6e9);
    expect(parseQuantity('128MiB/s', 'bit/s')).toBe(128 * 2 ** 20 * 8);
    expect(parseQuantity(12, 'ns')).toBe(12);
  });
});
