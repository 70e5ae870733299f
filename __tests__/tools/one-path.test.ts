// One path from file to run: `--set pluginPaths=…` decides where plugins are found,
// a run's config.json runs again as a scenario with byte-identical metrics, and the
// tools load scenarios through the same loader.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from './run-cli';
import { cellOverrides } from '../../tools/matrix/run-cell';
import { scenarioFromResults } from '../../tools/view/serve';


const tmp = mkdtempSync(path.join(os.tmpdir(), 'virtlab-one-path-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const fixtures = path.resolve('__tests__/fixtures/user-plugins');
const probeScenario = 'name: probe\nduration: 2ms\ntick: 1ms\npreset: minimal\nplugins:\n  user.probe: {}\n';

describe('--set pluginPaths', () => {
  it('decides where plugins are found, with paths relative to the working folder', async () => {
    const file = path.join(tmp, 'probe.scenario.yaml');
    writeFileSync(file, probeScenario);
    const without = await cli('run', file, '--quiet', '--out', path.join(tmp, 'no-path'));
    expect(without.code).toBe(2);
    expect(without.err).toMatch(/unknown plugin 'user.probe'/);
    const rel = path.relative(process.cwd(), fixtures);
    const r = await cli('run', file, '--quiet', '--out', path.join(tmp, 'with-path'), '--set', `pluginPaths=[${rel}]`);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(tmp, 'with-path', 'probe.txt'), 'utf8')).toMatch(/control 1/);
    // One folder may be given without brackets, and a plugin's options set beside it.
    const one = await cli('run', file, '--quiet', '--out', path.join(tmp, 'one'), '--set', `pluginPaths=${rel}`, '--set', 'plugins.user.probe.answerSyscall=3');
    expect(one.code).toBe(0);
    const config = JSON.parse(readFileSync(path.join(tmp, 'one', 'config.json'), 'utf8'));
    expect(config.scenario.pluginPaths).toEqual([fixtures]);
    expect(config.plugins.find((p: { id: string }) => p.id === 'user.probe').options.answerSyscall).toBe(3);
  });
});

describe('a results folder\'s config.json', () => {
  it('runs again as a scenario and gives a byte-identical metrics.json', async () => {
    const first = path.join(tmp, 'first');
    expect((await cli('run', 'scenarios/demo.scenario.yaml', '--quiet', '--out', first, '--seed', '5', '--set', 'duration=12s', '--set', 'plugins.placement.worst-fit.cpuOvercommit=2')).code).toBe(0);
    const again = path.join(tmp, 'again');
    const r = await cli('run', path.join(first, 'config.json'), '--quiet', '--out', again);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(again, 'metrics.json'), 'utf8')).toBe(readFileSync(path.join(first, 'metrics.json'), 'utf8'));
    // The configuration is the same too, but for the file it came from.
    const strip = (f: string) => ({ ...JSON.parse(readFileSync(f, 'utf8')), scenario: { ...JSON.parse(readFileSync(f, 'utf8')).scenario, file: '' } });
    expect(strip(path.join(again, 'config.json'))).toEqual(strip(path.join(first, 'config.json')));
  });

  it('finds the plugin folders its scenario named, wherever the config.json is moved', async () => {
    const file = path.join(tmp, 'sub', 'probe.scenario.yaml');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, probeScenario.replace('preset: minimal\n', `preset: minimal\npluginPaths: [${JSON.stringify(path.relative(path.dirname(file), fixtures))}]\n`));
    const first = path.join(tmp, 'probe-first');
    expect((await cli('run', file, '--quiet', '--out', first)).code).toBe(0);
    const moved = path.join(tmp, 'elsewhere', 'deeper', 'config.json');
    mkdirSync(path.dirname(moved), { recursive: true });
    writeFileSync(moved, readFileSync(path.join(first, 'config.json')));
    const r = await cli('run', moved, '--quiet', '--out', path.join(tmp, 'probe-again'));
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(tmp, 'probe-again', 'metrics.json'), 'utf8')).toBe(readFileSync(path.join(first, 'metrics.json'), 'utf8'));
  });

  it('is what the visualizer replays, unchanged', () => {
    const dir = path.join(tmp, 'first');
    expect(scenarioFromResults(dir).text).toBe(readFileSync(path.join(dir, 'config.json'), 'utf8'));
  });
});

describe('the matrix runner', () => {
  it('counts the plugins of a scenario\'s own plugin folders as axis values, through the scenario loader', () => {
    const file = path.join(tmp, 'axis.scenario.yaml');
    writeFileSync(file, `name: axis\nduration: 2ms\ntick: 1ms\npreset: minimal\npluginPaths: [${JSON.stringify(fixtures)}]\nplugins: {}\n`);
    const cell = { id: 'c', key: 'k', label: 'probe', scenario: file, scenarioSet: {}, assignment: { probe: 'user.probe' } };
    const o = cellOverrides(cell as never);
    expect(o.set).toContainEqual(expect.objectContaining({ path: 'plugins.user.probe', value: {} }));
  });
});
