// The placement plugins through real simulations, and the capacity index they use.
import { CapacityIndex } from '../../core/models/datacenter/capacity-index';
import { Host, Vm } from '../../core/models/datacenter/components';
import { Rng } from '../../core/engine/rng';
import { scenario as newScenario, type ScenarioBuilder } from '../../core/scenario/builder';
import { runText } from '../../tools/node/testing';
import { firstFit } from '../../plugins/placement/first-fit/first-fit';
import { worstFit } from '../../plugins/placement/worst-fit/worst-fit';

const scenario = (placement: string, vms = 6) =>
  newScenario('placement')
    .tick('1s')
    .duration('2s')
    .hosts({ profile: 'riscv-board', racks: 1, perRack: 3 })
    .vms({ count: vms, vcpus: 1, memory: '2GiB' })
    .plugin(placement);

const hostsUsed = async (text: ScenarioBuilder) => {
  const { sim } = await runText(text);
  const H = sim.world.store(Host);
  return sim.world.query([Host]).map((h) => H.vmCount[h]);
};

describe('placement plugins', () => {
  it('first-fit fills the first host before the next', async () => {
    expect(await hostsUsed(scenario('placement.first-fit'))).toEqual([4, 2, 0]);
  });

  it('worst-fit spreads VMs over the hosts', async () => {
    expect(await hostsUsed(scenario('placement.worst-fit'))).toEqual([2, 2, 2]);
  });

  it('keeps VMs pending and reports a failure when no host fits', async () => {
    const { sim, result } = await runText(scenario('placement.first-fit', 14));
    expect(sim.metrics.value('dc.vms.pending')).toBe(2);
    const events = result.files.get('events.jsonl')!.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.filter((e) => e.type === 'placement-failed')).toHaveLength(2);
    const V = sim.world.store(Vm);
    expect(sim.world.query([Vm]).filter((v) => V.host[v] === 0)).toHaveLength(2);
  });

  it('honours the overcommit options', async () => {
    const text = scenario('placement.first-fit', 6).pluginOptions('placement.first-fit', { cpuOvercommit: 2 });
    expect(await hostsUsed(text)).toEqual([6, 0, 0]);
  });
});

describe('first fit and worst fit on the capacity index', () => {
  it('agree with a linear scan', () => {
    const rng = new Rng(4);
    const n = 37;
    const mem = Array.from({ length: n }, () => rng.int(100));
    const cpu = Array.from({ length: n }, () => rng.int(8));
    const idx = new CapacityIndex(mem.map((_, i) => i + 1));
    mem.forEach((m, i) => idx.update(i, m, cpu[i]));
    for (let q = 0; q < 200; q++) {
      const needM = rng.int(100);
      const needC = rng.int(8);
      const fits = mem.map((m, i) => m >= needM && cpu[i] >= needC);
      expect(firstFit(idx, needM, needC)).toBe(fits.indexOf(true));
      let best = -1;
      fits.forEach((f, i) => {
        if (f && (best < 0 || mem[i] > mem[best])) best = i;
      });
      expect(worstFit(idx, needM, needC)).toBe(best);
    }
  });
});
