// An MMU strategy written outside plugins/ against the 'virtlab' exports alone
// (BaseShadowMmu, registerMmu, the shared pageWalkCache option fragment) registers as a
// plugin from its own folder and runs under the paging workload like the strategies
// in plugins/mmu/. The strategy is __tests__/fixtures/user-plugins/pv-shadow.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BaseShadowMmu, MmuStrategy, type Simulation } from '../../../../core/index';
import { bootText } from '../../../../tools/node/testing';

const USER_PLUGINS = path.join(__dirname, '..', '..', '..', 'fixtures', 'user-plugins');
const PV_SHADOW = path.join(USER_PLUGINS, 'pv-shadow');

const scenario = (mmu: string) => `name: user-strategy
tick: 1ms
duration: 12ms
preset: minimal
hosts: [{ profile: riscv-board }]
vms: [{ memory: 1GiB }]
plugins:
  datacenter.racks: {}
  placement.first-fit: {}
  ${mmu}
  workload.paging: { guestLevels: 3, pagesPerProcess: 1024, accessesPerTick: 2000, churnPerTick: 4, switchesPerTick: 1, warmupTicks: 2 }
`;

async function run(mmu: string): Promise<Simulation> {
  const sim = await bootText(scenario(mmu), {}, [USER_PLUGINS]);
  sim.run();
  await sim.finish();
  return sim;
}

describe('an MMU strategy from a folder outside plugins/', () => {
  it('imports nothing but virtlab and its own folder', () => {
    for (const file of readdirSync(PV_SHADOW).filter((f) => f.endsWith('.ts'))) {
      const specifiers = [...readFileSync(path.join(PV_SHADOW, file), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]);
      expect(specifiers.length).toBeGreaterThan(0);
      for (const s of specifiers) expect(s === 'virtlab' || /^\.\/[\w-]+$/.test(s)).toBe(true);
    }
  });

  it('is the simulation’s MMU and translates the paging workload’s accesses', async () => {
    const sim = await run('user.pv-shadow: {}');
    const strategy = sim.services.get(MmuStrategy);
    expect(strategy.name).toBe('pv-shadow');
    expect(strategy).toBeInstanceOf(BaseShadowMmu);
    expect(sim.metrics.value('mmu.accesses')).toBeGreaterThan(0);
    expect(sim.metrics.value('mmu.tlb.misses')).toBeGreaterThan(0);
    expect(sim.metrics.value('mmu.shadow.syncs')).toBeGreaterThan(0);
    // Paravirtual: the guest's page-table writes are not trapped, its flushes and switches are hypercalls.
    expect(sim.metrics.value('mmu.exits.pt-write')).toBe(0);
    expect(strategy.stats.exits.get('hypercall')).toBeGreaterThan(0);
    // First touches of mmap'd pages are guest faults: they exit too, and the hypervisor reflects them.
    expect([...strategy.stats.exits.keys()].sort()).toEqual(['guest-fault', 'hidden-fault', 'hypercall']);
    expect(sim.metrics.value('mmu.exits')).toBe(strategy.stats.totalExits);
  });

  it('exits less often than write-protecting shadow paging on the same guest', async () => {
    const pv = await run('user.pv-shadow: {}');
    const shadow = await run('mmu.shadow-paging: {}');
    expect(shadow.metrics.value('mmu.exits.pt-write')).toBeGreaterThan(0);
    expect(pv.metrics.value('mmu.exits')).toBeLessThan(shadow.metrics.value('mmu.exits')!);
  });

  it('takes the shared pageWalkCache option, and the cache shortens its walks', async () => {
    const plain = await run('user.pv-shadow: {}');
    const cached = await run('user.pv-shadow: { pageWalkCache: true }');
    expect(cached.selectedPlugins.find((p) => p.id === 'user.pv-shadow')?.options).toEqual({ pageWalkCache: true, hypercallCycles: 600 });
    expect(cached.metrics.value('mmu.walk.references-per-miss')).toBeLessThan(plain.metrics.value('mmu.walk.references-per-miss')!);
  });
});
