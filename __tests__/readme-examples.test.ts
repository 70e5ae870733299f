// The README's worked example is code that runs: every fenced block marked
// `file=<path>` is byte for byte that file, and the three plugin folders it shows (a
// placement policy, a migration add-on, an MMU strategy) are copied into a temporary
// directory outside the repository and each runs in a scenario from there. Breaking
// the example (a README edit that drifts from the file, a plugin that only works
// inside the repository, a policy that does not change placement) fails here.
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatacenterToken, Host, MigrationService, MmuStrategy, Vm, type Simulation } from 'virtlab';
import { bootText } from '../tools/node/testing';
import { scenario } from '../core/scenario/builder';

const ROOT = path.resolve(__dirname, '..');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const BLOCKS = [...README.matchAll(/```\w+ file=(\S+)\n([\s\S]*?)```/g)].map((m) => ({ file: m[1], text: m[2] }));
const FOLDERS = ['best-fit', 'migration-dedup', 'pv-shadow'];

let outside = '';
beforeAll(() => {
  outside = mkdtempSync(path.join(os.tmpdir(), 'virtlab-readme-'));
  for (const f of FOLDERS) cpSync(path.join(ROOT, '__tests__', 'fixtures', 'user-plugins', f), path.join(outside, f), { recursive: true });
});
afterAll(() => rmSync(outside, { recursive: true, force: true }));

async function run(text: string | ReturnType<typeof scenario>): Promise<Simulation> {
  const sim = await bootText(text, {}, [outside]);
  sim.run();
  await sim.finish();
  return sim;
}

describe('the README’s worked example', () => {
  it('shows every file as it is', () => {
    expect(BLOCKS.map((b) => path.basename(path.dirname(b.file)))).toEqual(expect.arrayContaining(FOLDERS));
    for (const b of BLOCKS) expect(b.text).toBe(readFileSync(path.join(ROOT, b.file), 'utf8'));
  });

  it('runs a placement policy from outside the repository: best fit fills the small host that first fit leaves empty', async () => {
    // Host 0 is a 384 GiB server, host 1 a 16 GiB board; four 2 GiB VMs arrive.
    const dc = (placement: string) =>
      scenario(`placement-${placement}`)
        .duration('10ms')
        .tick('1ms')
        .hosts({ profile: 'x86-64-server' }, { profile: 'riscv-board' })
        .vms({ name: 'small', count: 4, vcpus: 1, memory: '2GiB' })
        .plugin(placement);
    const hostsOf = (sim: Simulation) => {
      const hosts = sim.services.get(DatacenterToken).hosts;
      const V = sim.world.store(Vm);
      return sim.world.query([Vm]).map((vm) => hosts.indexOf(V.host[vm]));
    };
    const first = await run(dc('placement.first-fit'));
    const best = await run(dc('user.best-fit'));
    expect(hostsOf(first)).toEqual([0, 0, 0, 0]);
    expect(hostsOf(best)).toEqual([1, 1, 1, 1]);
    const H = best.world.store(Host);
    expect(best.world.query([Host]).map((h) => H.allocatedMemory[h])).toEqual([0, 8 * 2 ** 30]);
  });

  it('runs a migration add-on from outside the repository: deduplication sends fewer bytes', async () => {
    const migrate = (dedup: boolean) =>
      scenario('dedup')
        .tick('100ms')
        .duration('2min')
        .hosts({ profile: 'x86-64-server', racks: 2, perRack: 1 })
        .vms({ name: 'vm', vcpus: 2, memory: '2GiB', workload: { kind: 'synthetic', writesPerSecond: 1500, workingSet: '1GiB' } })
        .plugin('migration.precopy', { bandwidth: '1Gbit/s' })
        .plugin('migration.schedule', { migrations: [{ at: '1s', group: 'vm', toRack: 1 }] })
        .plugin(dedup ? 'user.migration-dedup' : 'trace.events');
    const bytes = async (dedup: boolean) => (await run(migrate(dedup))).services.get(MigrationService).all()[0];
    const plain = await bytes(false);
    const deduplicated = await bytes(true);
    expect(plain.success && deduplicated.success).toBe(true);
    expect(deduplicated.bytesSent).toBeLessThan(plain.bytesSent * 0.6);
  });

  it('runs an MMU strategy from outside the repository: it becomes the MMU and traps no page-table write', async () => {
    const sim = await run(
      scenario('pv')
        .preset('minimal')
        .tick('1ms')
        .duration('8ms')
        .hosts({ profile: 'riscv-board' })
        .vms({ memory: '1GiB' })
        .plugin('datacenter.racks')
        .plugin('placement.first-fit')
        .plugin('user.pv-shadow')
        .plugin('workload.paging', { guestLevels: 3, pagesPerProcess: 512, accessesPerTick: 1000, churnPerTick: 4, switchesPerTick: 1 }),
    );
    expect(sim.services.get(MmuStrategy).name).toBe('pv-shadow');
    expect(sim.metrics.value('mmu.accesses')).toBeGreaterThan(0);
    expect(sim.metrics.value('mmu.exits.pt-write')).toBe(0);
    expect(sim.metrics.value('mmu.exits')).toBeGreaterThan(0);
  });
});
