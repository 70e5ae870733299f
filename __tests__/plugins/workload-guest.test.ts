// workload.guest through real simulations: guests advance with simulated time, their
// clock is the simulated clock, and a checkpointed run resumes exactly.
import { Simulation } from '../../core/simulation';
import { scenario as newScenario, type ScenarioBuilder } from '../../core/scenario/builder';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadScenarioFile } from '../../tools/node/scenario-file';
import { scenarioFile, writeScenario } from '../../tools/node/testing';

const FILE = 'scenarios/guest-vms.scenario.yaml';

// Variants of scenarios are written here, never into scenarios/.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'virtlab-workload-guest-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function boot(set: Array<{ path: string; value: unknown }> = [], engine = 'dbt.interpreter') {
  // The same scenario with another cpu.engine plugin in a temporary folder (its paths made absolute).
  const file = engine === 'dbt.interpreter' ? FILE : writeScenario(tmp, `guest-vms-${engine}`, scenarioFile(FILE).swapPlugin('dbt.interpreter', engine));
  const { scenario, catalog, files } = loadScenarioFile(file, { set });
  return Simulation.create({ scenario, catalog, files });
}

describe('workload.guest', () => {
  it('retires instructions at the host clock rate, tick by tick', async () => {
    const sim = await boot([{ path: 'duration', value: '1ms' }]);
    sim.step();
    // One 1 ms tick of a 1.2 GHz riscv-board at IPC 1: 1.2 M instructions per guest,
    // but the echo guest exits after 10045 (its stdout is a pipe: glibc buffers it fully).
    expect(sim.metrics.value('guest.instructions')).toBe(4 * 1_200_000 - (1_200_000 - 10045));
  });

  it('runs slower guests on a slower IPC', async () => {
    const fast = await boot([{ path: 'duration', value: '5ms' }]);
    const slow = await boot([
      { path: 'duration', value: '5ms' },
      { path: 'vms.1.workload.ipc', value: 0.5 },
    ]);
    fast.run();
    slow.run();
    expect(slow.metrics.value('guest.instructions')!).toBeLessThan(fast.metrics.value('guest.instructions')!);
  });

  it.each(['dbt.interpreter', 'dbt.block-translator', 'dbt.instrew'])('resumes a checkpoint with guests mid-run exactly under %s', async (engine) => {
    const short = [{ path: 'duration', value: '12ms' }];
    const whole = await boot(short, engine);
    whole.run();
    const a = await whole.finish();
    const first = await boot(short, engine);
    first.runUntil(4e6);
    const snap = first.snapshot();
    const resumed = await boot(short, engine);
    resumed.restore(snap);
    resumed.run();
    const b = await resumed.finish();
    expect(b.metricsJson).toBe(a.metricsJson);
    expect(b.files.get('guests/sort-0.stdout')).toBe(a.files.get('guests/sort-0.stdout'));
    expect(a.files.get('guests/sort-0.stdout')).toMatch(/sorted 20000 ok=1/);
  });

  it('refuses a guest workload without an execution engine', async () => {
    await expect(boot([{ path: 'plugins', value: { 'workload.guest': null } }])).rejects.toThrow(/requires 'cpu.engine'/);
  });
});

describe('workload.guest in MMU timing mode', () => {
  const timing = (mmu: string, engine = 'dbt.interpreter'): ScenarioBuilder =>
    newScenario('guest-timing')
      .tick('100us')
      .duration('400ms')
      .preset('minimal')
      .hosts({ profile: 'x86-64-server' })
      .vms({ name: 'sort', memory: '256MiB', workload: { kind: 'guest', program: path.resolve('scenarios/guests/bin/sort.elf'), args: ['20000'] } })
      .plugin('datacenter.racks')
      .plugin('placement.first-fit')
      .plugin(engine)
      .plugin(mmu)
      .plugin('workload.guest', { memory: '64MiB', mmuTiming: true });
  let runs = 0;
  async function run(mmu: string, engine?: string) {
    const file = writeScenario(tmp, `timing-${runs++}`, timing(mmu, engine));
    const { scenario, catalog, files } = loadScenarioFile(file);
    const sim = await Simulation.create({ scenario, catalog, files });
    sim.run();
    return { sim, result: await sim.finish() };
  }

  it('runs the guest through the MMU strategy: same output, more translation cycles under nested paging', async () => {
    const native = await run('mmu.native');
    const nested = await run('mmu.nested-paging');
    const out = (r: Awaited<ReturnType<typeof run>>) => r.result.files.get('guests/sort-0.stdout');
    expect(out(native)).toMatch(/sorted 20000 ok=1/);
    expect(out(nested)).toBe(out(native));
    // A full Sv39 walk reads 3 entries natively and 3 + 4 × 4 nested; the first touch of a
    // page faults (demand paging), and its walk stops at the first invalid entry, so the
    // averages are a little lower.
    const refs = (r: Awaited<ReturnType<typeof run>>) => r.sim.metrics.value('mmu.walk.references-per-miss')!;
    expect(refs(native)).toBeGreaterThan(2.9);
    expect(refs(native)).toBeLessThan(3);
    expect(refs(nested)).toBeGreaterThan(16);
    expect(refs(nested)).toBeLessThan(3 + 4 * 4);
    // Every page the guest touches faults once, under any strategy; each fault and each
    // system call enters the kernel and returns (two privilege changes). Mapping pages
    // before their first access, or no kernel entry per system call, breaks this.
    const faults = native.sim.metrics.value('mmu.guest-faults')!;
    expect(faults).toBeGreaterThan(100);
    expect(nested.sim.metrics.value('mmu.guest-faults')).toBe(faults);
    const switches = native.sim.metrics.value('mmu.privilege-switches')!;
    expect(switches % 2).toBe(0);
    expect(switches).toBeGreaterThan(2 * faults);
    expect(nested.sim.metrics.value('guest.translation-cycles')!).toBeGreaterThan(native.sim.metrics.value('guest.translation-cycles')!);
    const { GuestCpu } = await import('virtlab');
    const done = (r: Awaited<ReturnType<typeof run>>) => r.sim.world.store(GuestCpu).exitedAt[r.sim.world.query([GuestCpu])[0]];
    // The sort touches few pages (144 TLB misses) and its page tables stay in the data
    // cache, so nested paging's extra walk cycles (about 28 000) are less than one
    // 100 µs tick: it may finish in the same tick, never earlier.
    expect(done(nested)).toBeGreaterThanOrEqual(done(native));
  });

  it.each(['dbt.block-translator', 'dbt.instrew'])('shows the MMU strategy the same accesses under %s as under the interpreter', async (engine) => {
    const reference = await run('mmu.nested-paging');
    const translated = await run('mmu.nested-paging', engine);
    // Everything the guest and the MMU did is the same; only how the host ran it differs.
    expect(translated.result.metricsJson).toBe(reference.result.metricsJson);
    expect(translated.result.files.get('guests/sort-0.stdout')).toBe(reference.result.files.get('guests/sort-0.stdout'));
    const counters = JSON.parse(translated.result.files.get('guests/engine.json')!) as { engine: string; guests: Record<string, Record<string, number>> };
    expect(counters.engine).toBe(engine);
    expect(counters.guests['sort-0'].units).toBeGreaterThan(0);
  });

  it('resumes a checkpoint taken mid-run exactly', async () => {
    const file = writeScenario(tmp, 'timing-checkpoint', timing('mmu.shadow-paging').duration('20ms'));
    const boot = async () => {
      const { scenario, catalog, files } = loadScenarioFile(file);
      return Simulation.create({ scenario, catalog, files });
    };
    const whole = await boot();
    whole.run();
    const a = await whole.finish();
    const first = await boot();
    first.runUntil(3e6);
    const resumed = await boot();
    resumed.restore(first.snapshot());
    resumed.run();
    expect((await resumed.finish()).metricsJson).toBe(a.metricsJson);
  });
});
