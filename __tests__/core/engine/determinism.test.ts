// Determinism and checkpoints: the same scenario and seed give byte-identical
// metrics.json; another seed gives different results; a run checkpointed at tick k
// and resumed in a fresh simulation ends exactly like an uninterrupted run.
import { Simulation } from '../../../core/simulation';
import { ScenarioBuilder } from '../../../core/scenario/builder';
import { bootText, runText, scenarioFromText } from '../../../tools/node/testing';

const text = `name: determinism
seed: 3
tick: 100ms
duration: 20s
hosts:
  - { profile: x86-64-server, racks: 2, perRack: 2 }
vms:
  - name: zipf
    count: 6
    vcpus: 4
    memory: 2GiB
    workload: { kind: synthetic, distribution: zipf, readsPerSecond: 50000, writesPerSecond: 5000 }
  - name: phased
    count: 3
    memory: 1GiB
    arrival: 3s
    workload:
      kind: synthetic
      repeat: true
      phases:
        - { duration: 2s, distribution: sequential, readsPerSecond: 1000 }
        - { duration: 3s, distribution: uniform, writesPerSecond: 3000, workingSet: 256MiB }
  - name: too-big
    memory: 1TiB
record:
  every: 1s
  series: [dc.vms.running, workload.dirty-pages]
`;

describe('determinism', () => {
  it('gives byte-identical metrics and time series for the same seed', async () => {
    const a = await runText(text);
    const b = await runText(text);
    expect(a.result.metricsJson).toBe(b.result.metricsJson);
    expect(a.result.timeseriesCsv).toBe(b.result.timeseriesCsv);
    expect(a.result.configJson).toBe(b.result.configJson);
  });

  it('gives different results for another seed', async () => {
    const a = await runText(text);
    const b = await runText(text, { seed: 4 });
    expect(a.result.metricsJson).not.toBe(b.result.metricsJson);
  });

  it('resumes from a checkpoint exactly where the run left off', async () => {
    const whole = await runText(text);

    const first = await bootText(text);
    first.runUntil(7.3e9);
    const snap = first.snapshot();

    const { scenario, catalog } = scenarioFromText(text);
    const resumed = await Simulation.create({ scenario, catalog });
    resumed.restore(snap);
    expect(resumed.tick).toBe(first.tick);
    resumed.run();
    const result = await resumed.finish();
    expect(result.metricsJson).toBe(whole.result.metricsJson);
    expect(result.timeseriesCsv).toBe(whole.result.timeseriesCsv);
    expect(result.files.get('events.jsonl')).toBe(whole.result.files.get('events.jsonl'));
  });

  it('resumes exactly in per-page detail mode too', async () => {
    const detailed = ScenarioBuilder.fromText(text).workload('zipf', { readsPerSecond: 5000, writesPerSecond: 500 }).plugin('workload.synthetic', { detailAll: true });
    const whole = await runText(detailed);
    const first = await bootText(detailed);
    first.runUntil(5e9);
    const resumed = await bootText(detailed);
    resumed.restore(first.snapshot());
    resumed.run();
    expect((await resumed.finish()).metricsJson).toBe(whole.result.metricsJson);
  });

  it('refuses a snapshot of another scenario or seed', async () => {
    const a = await bootText(text);
    const b = await bootText(text, { seed: 99 });
    expect(() => b.restore(a.snapshot())).toThrow(/snapshot is of scenario 'determinism' \(seed 3/);
  });
});
