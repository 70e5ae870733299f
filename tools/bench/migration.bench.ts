// Migration benchmarks (`npm run bench:migration`): migrations per wall second on the
// SimGrid comparison grid (tools/simgrid/grid.ts) stepped tick by tick (before) and
// advancing from event to event (after); the grid once and with 40 migrations per VM
// through virtlab and, when libsimgrid-dev is installed, through SimGrid 3.32's driver,
// both timed the same way (tools/simgrid/compare.ts, SPEED_NOTE); the wall time of the
// 15-case AdaMig reproduction (30 migrations: pre-copy and AdaMig), and of a rack
// evacuation in a datacenter of 1,000 hosts, with simulated seconds per wall second.

import { MigrationService } from 'virtlab';
import { adamigCases } from '../repro/adamig';
import { bootText } from '../node/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildDriver, formatSpeeds, simgridSpeed, virtlabSpeed } from '../simgrid/compare';
import { bootGrid, runVirtlabGrid } from '../simgrid/grid';

/** The 10 Gbit/s half of the grid (15 migrations, at most 261 simulated s) at a 10 ms tick. */
async function gridHalf(advance: 'tick' | 'event'): Promise<{ migrations: number; wallS: number; steps: number }> {
  const t0 = performance.now();
  const { sim } = await bootGrid(10, '10ms', advance);
  let steps = 0;
  while (sim.tick < sim.totalTicks) {
    sim.step();
    steps++;
  }
  const wallS = (performance.now() - t0) / 1000;
  return { migrations: sim.services.get(MigrationService).all().filter((r) => r.success).length, wallS, steps };
}

(async () => {
  await runVirtlabGrid('10ms', 'event', 1); // warm up
  const before = await gridHalf('tick');
  const after = await gridHalf('event');
  const rate = (x: { migrations: number; wallS: number }) => Math.round(x.migrations / x.wallS);
  console.log(`grid at 10 Gbit/s, every tick: ${before.migrations} migrations in ${before.wallS.toFixed(2)} s (${before.steps} steps), ${rate(before)} per wall second`);
  console.log(`grid at 10 Gbit/s, event advance: ${after.migrations} migrations in ${after.wallS.toFixed(3)} s (${after.steps} steps), ${rate(after)} per wall second (${(rate(after) / rate(before)).toFixed(0)}×)`);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'virtlab-bench-'));
  try {
    const bin = buildDriver(tmp);
    if (!bin) console.log('SimGrid (libsimgrid-dev) is not installed: virtlab alone');
    console.log(formatSpeeds('the grid once (30 migrations)', bin ? simgridSpeed(bin, 1, 9) : undefined, await virtlabSpeed(1, 9)));
    const many = await virtlabSpeed(40, 3);
    console.log(formatSpeeds(`every VM migrating 40 times (${many.warm.migrations} migrations)`, bin ? simgridSpeed(bin, 40, 3) : undefined, { warm: many.warm }));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  let t0 = performance.now();
  const cases = await adamigCases(0);
  const reproS = (performance.now() - t0) / 1000;
  console.log(`AdaMig reproduction: ${cases.length} cases × 2 methods in ${reproS.toFixed(2)} s (${((cases.length * 2 * 900) / reproS).toFixed(0)} simulated s per wall s)`);

  const sim = await bootText(`name: evacuation-1000
seed: 1
tick: 100ms
duration: 20min
preset: headless
hosts:
  - { profile: x86-64-server, racks: 25, perRack: 40 }
topology: { oversubscription: 4 }
vms:
  - name: app
    count: 4000
    vcpus: 4
    memory: 8GiB
    workload: { kind: synthetic, distribution: zipf, zipfExponent: 0.8, workingSet: 1GiB, readsPerSecond: 10000, writesPerSecond: 1000, cpu: 0.3 }
plugins:
  placement.worst-fit: {}
  migration.precopy: { bandwidth: 1Gbit/s }
  migration.schedule: { evacuateRack: 0, evacuateAt: 10s }
`);
  t0 = performance.now();
  sim.run();
  const s = (performance.now() - t0) / 1000;
  await sim.finish();
  const started = sim.metrics.value('migration.started');
  const ok = sim.metrics.value('migration.succeeded');
  console.log(`evacuation of rack 0 in 1,000 hosts / 4,000 VMs: ${started} migrations (${ok} succeeded) in ${s.toFixed(2)} s wall, ${(1200 / s).toFixed(0)} simulated s per wall s`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
