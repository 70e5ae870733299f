// Working-set estimation on a real RISC-V guest: matmul-int (argv 160: three 200 KiB
// matrices) runs in MMU timing mode under nested paging, and its page-access stream
// feeds dirty-log.prl, wss.prl and wss.truth. In the multiply, each interval reads all
// of B and a row band of A and writes a row band of C: most pages it touches are only
// read, so an estimator that counts writes alone sees a small part of them.
//
// Mutations that must break these tests (each checked once):
// - PRL logging only writes (dirty-log/common.ts: the A-bit transition not logged, as
//   PML): "tracks the truth with PRL" fails (the estimate falls to the written pages);
// - workload.guest handing the stream its reads as writes, or dropping the accesses of
//   a step (no batch): the truth series, the PML estimate or the written pages change,
//   and "PML sees only the written pages" fails;
// - nested paging's EPT A/D bits left out of its snapshot: a write after the restore
//   re-walks to set a D bit already set, and "resumes a checkpoint" fails (63 cycles).
import { Simulation } from '../../core/simulation';
import { scenario } from '../../core/scenario/builder';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadScenarioFile } from '../../tools/node/scenario-file';
import { writeScenario } from '../../tools/node/testing';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'virtlab-guest-wss-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const INTERVAL = 2e6; // ns
let runs = 0;
async function boot(provider: string, estimators: string[]) {
  let s = scenario('guest-wss')
    .tick('100us')
    .duration('60ms')
    .hosts({ profile: 'x86-64-server', racks: 1, perRack: 1 })
    .vms({ name: 'mm', memory: '64MiB', workload: { kind: 'guest', program: path.resolve('scenarios/guests/bin/matmul-int.elf'), args: ['160'] } })
    .plugin('placement.first-fit')
    .plugin('dbt.interpreter')
    .plugin('mmu.nested-paging')
    .plugin('workload.guest', { memory: '16MiB', mmuTiming: true })
    .plugin(provider);
  for (const e of estimators) s = s.plugin(e, { interval: `${INTERVAL / 1e6}ms` });
  const file = writeScenario(tmp, `guest-wss-${runs++}`, s);
  const { scenario: sc, catalog, files } = loadScenarioFile(file);
  return Simulation.create({ scenario: sc, catalog, files });
}
async function run(provider: string, estimators: string[]) {
  const sim = await boot(provider, estimators);
  sim.run();
  const result = await sim.finish();
  const series = (id: string) => (JSON.parse(result.files.get(`${id}.json`)!) as { vms: Array<{ t: number[]; bytes: number[] }> }).vms[0];
  return { sim, result, series };
}

type Run = Awaited<ReturnType<typeof run>>;
const cache = new Map<string, Promise<Run>>();
const once = (provider: string, estimators: string[]) => {
  const key = `${provider}:${estimators.join(',')}`;
  if (!cache.has(key)) cache.set(key, run(provider, estimators));
  return cache.get(key)!;
};
const PAGE = 4096;
/** Intervals in the multiply: after the first (which initializes A and B, all writes), while the guest runs. */
const multiply = (truth: number[]) => truth.map((_, i) => i).filter((i) => i > 0 && truth[i] >= 50 * PAGE);
const exitedAt = async (r: Run) => {
  const { GuestCpu } = await import('virtlab');
  return r.sim.world.store(GuestCpu).exitedAt[r.sim.world.query([GuestCpu])[0]];
};

describe('working-set estimation on a real guest', () => {
  it('tracks the truth with PRL, interval by interval, on a read-mostly real program', async () => {
    const { result, series, sim } = await once('dirty-log.prl', ['wss.truth', 'wss.prl']);
    expect(result.files.get('guests/mm-0.stdout')).toMatch(/matmul-int n=160 trace/);
    const truth = series('wss.truth');
    const prl = series('wss.prl');
    expect(prl.t).toEqual(truth.t);
    // Each interval of the multiply reads all of B (50 pages) and bands of A and C.
    const busy = multiply(truth.bytes);
    expect(busy.length).toBeGreaterThan(3);
    for (const i of busy) {
      // PRL logs each page's first access after its bits were cleared: the estimate is the truth
      // (a page the drain has not reached yet moves to the next interval, hence the 5%).
      expect(Math.abs(prl.bytes[i] - truth.bytes[i])).toBeLessThanOrEqual(0.05 * truth.bytes[i]);
    }
    expect(sim.metrics.value('dirty-log.entries')!).toBeGreaterThan(0);
    expect(sim.metrics.value('mmu.guest-faults')!).toBeGreaterThan(150);
  });

  it('PML sees only the written pages of the same program: far below the truth', async () => {
    const { series } = await once('dirty-log.pml', ['wss.truth', 'wss.pml']);
    const truth = series('wss.truth');
    const pml = series('wss.pml');
    const busy = multiply(truth.bytes);
    expect(busy.length).toBeGreaterThan(3);
    for (const i of busy) expect(pml.bytes[i]).toBeLessThan(0.5 * truth.bytes[i]);
    // Yet it logs something: C's rows are written.
    for (const i of busy) expect(pml.bytes[i]).toBeGreaterThan(0);
  });

  it('the oracle costs the guest nothing; PRL clears and flushes delay it', async () => {
    const alone = await once('dirty-log.prl', []);
    const oracle = await once('dirty-log.prl', ['wss.truth']);
    const prl = await once('dirty-log.prl', ['wss.truth', 'wss.prl']);
    expect(oracle.result.files.get('guests/mm-0.stdout')).toBe(alone.result.files.get('guests/mm-0.stdout'));
    expect(await exitedAt(oracle)).toBe(await exitedAt(alone));
    expect(oracle.sim.metrics.value('guest.translation-cycles')).toBe(alone.sim.metrics.value('guest.translation-cycles'));
    expect(await exitedAt(prl)).toBeGreaterThan(await exitedAt(alone));
  });

  it('resumes a checkpoint taken mid-run exactly: the guest, its page tables, the log and the estimates', async () => {
    const whole = await once('dirty-log.prl', ['wss.truth', 'wss.prl']);
    const first = await boot('dirty-log.prl', ['wss.truth', 'wss.prl']);
    first.runUntil(9.05e6);
    const resumed = await boot('dirty-log.prl', ['wss.truth', 'wss.prl']);
    resumed.restore(first.snapshot());
    resumed.run();
    const result = await resumed.finish();
    expect(result.metricsJson).toBe(whole.result.metricsJson);
    for (const id of ['wss.truth', 'wss.prl']) expect(result.files.get(`${id}.json`)).toBe(whole.result.files.get(`${id}.json`));
  });
});
