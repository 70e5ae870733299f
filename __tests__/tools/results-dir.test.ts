// Default results folders carry a digest of the configuration, so runs that differ
// only in their plugins or options never overwrite each other.
import path from 'node:path';
import { loadScenarioFile } from '../../tools/node/scenario-file';
import { configDigest, defaultResultsDir } from '../../tools/node/results';

const load = (...set: Array<[string, unknown]>) => loadScenarioFile('scenarios/demo.scenario.yaml', { set: set.map(([p, value]) => ({ path: p, value })) }).scenario;

describe('default results folders', () => {
  // Mutation that must break this: configDigest leaving out the plugins.
  it('differ when a plugin option differs, and not when only the file or the key order does', () => {
    const base = load();
    const other = load(['plugins.placement.worst-fit.cpuOvercommit', 2]);
    expect(configDigest(base)).toMatch(/^[0-9a-f]{8}$/);
    expect(configDigest(other)).not.toBe(configDigest(base));
    const reordered = Object.fromEntries(Object.entries(base).reverse());
    expect(configDigest({ ...reordered, file: '/elsewhere/demo.yaml', dir: '/elsewhere' })).toBe(configDigest(base));
    expect(defaultResultsDir('demo', 42, configDigest(base))).toBe(path.join('results', `demo-seed42-${configDigest(base)}`));
  });
});
