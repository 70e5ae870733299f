// Migration benchmarks (`npm run bench:migration`): the wall time of the 15-case AdaMig
// reproduction (30 migrations: pre-copy and AdaMig), and of a rack evacuation in a
// datacenter of 1,000 hosts, with simulated seconds per wall second.

import { adamigCases } from '../repro/adamig';
import { bootText } from '../node/testing';

(async () => {
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
