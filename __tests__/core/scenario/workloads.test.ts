// Workload kinds: a VM group's workload is checked against the schema of the plugin
// that runs its kind (declared in that plugin's manifest), not a list in core.
import path from 'node:path';
import { ScenarioError } from '../../../core/scenario/loader';
import { workloadSpecFrom } from '../../../core/models/datacenter/workload';
import { scenarioFromText } from '../../../tools/node/testing';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'user-plugins');

const scenario = (workload: string, extra = '') => `name: t
duration: 1s
tick: 10ms
hosts:
  - profile: x86-64-server
vms:
  - memory: 1GiB
    workload: ${workload}
${extra}`;

function loadError(text: string, dirs: string[] = []): ScenarioError {
  try {
    scenarioFromText(text, {}, 'bad.scenario.yaml', dirs);
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('expected a ScenarioError');
}

describe('workload kinds', () => {
  it('fill a synthetic workload’s defaults from workload.synthetic’s manifest, with units converted', () => {
    const { scenario: s } = scenarioFromText(scenario('{ kind: synthetic, workingSet: 400MB }'));
    expect(s.vms[0].workload).toMatchObject({ kind: 'synthetic', workingSet: 4e8, distribution: 'uniform', cpu: 0.5, readsPerSecond: 0 });
  });

  it('let a phase that leaves a key out take it from the workload’s top level', () => {
    const text = scenario(`
      kind: synthetic
      workingSet: 400MB
      zipfExponent: 0.7
      phases:
        - { duration: 2s, distribution: sequential, readsPerSecond: 100 }
        - { distribution: zipf, writesPerSecond: 50 }`);
    const spec = workloadSpecFrom(scenarioFromText(text).scenario.vms[0].workload!);
    expect(spec.phases.map((p) => p.workingSet)).toEqual([4e8, 4e8]);
    expect(spec.phases[1]).toMatchObject({ distribution: 'zipf', zipfExponent: 0.7, writesPerSecond: 50, readsPerSecond: 0, duration: Infinity });
  });

  it('refuse an unknown key with the nearest one and the plugin that declares the kind', () => {
    const e = loadError(scenario('{ kind: synthetic, writesPerSec: 5 }'));
    expect(e.path).toBe('vms.0.workload.writesPerSec');
    expect(e.line).toBe(8);
    expect(e.hint).toMatch(/did you mean 'writesPerSecond'\?.*workload\.synthetic/);
  });

  it('refuse a value out of range at its line', () => {
    const e = loadError(scenario('{ kind: synthetic, cpu: 2 }'));
    expect(e.path).toBe('vms.0.workload.cpu');
    expect(e.problem).toMatch(/<= 1/);
  });

  it('refuse a kind no installed plugin runs, naming the nearest', () => {
    const e = loadError(scenario('{ kind: synthetik }'));
    expect(e.path).toBe('vms.0.workload.kind');
    expect(e.message).toMatch(/no installed plugin runs 'synthetik' workloads/);
    expect(e.hint).toBe("did you mean 'synthetic'?");
  });

  it('take the schema of a kind from a plugin outside the repository', () => {
    const ok = scenarioFromText(scenario('{ kind: idle-loop, period: 5ms }', 'pluginPaths: []'), {}, 'x.scenario.yaml', [FIXTURES]).scenario;
    expect(ok.vms[0].workload).toEqual({ kind: 'idle-loop', period: 5e6, load: 0.1 });
    expect(loadError(scenario('{ kind: idle-loop }'), [FIXTURES]).message).toMatch(/missing required property 'period'/);
  });
});
