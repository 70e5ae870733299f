// Engine benchmarks (`npm run bench`): the framework's own cost per tick (an empty
// simulation with the bench.empty plugin), and a datacenter of 20,000 hosts and
// 40,000 VMs running synthetic memory workloads for one simulated hour at 1 s ticks.
// Figures are measured in this run and printed with their ratios to the targets;
// nothing here is asserted by the test suite.

import { bootText } from '../node/testing';

const HOUR_TARGET_S = 60;
const MEMORY_TARGET_BYTES = 4 * 2 ** 30;

function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

async function emptySimulation(): Promise<void> {
  const ticks = 1_000_000;
  const sim = await bootText(`name: bench-empty
preset: minimal
tick: 1us
duration: ${ticks}us
plugins:
  bench.empty: { systemsPerPhase: 1, tapTicks: true }
`);
  sim.runUntil(10_000 * 1000); // warm up
  const t0 = performance.now();
  sim.run();
  const s = (performance.now() - t0) / 1000;
  const done = ticks - 10_000;
  console.log(`empty simulation: ${(done / s / 1e6).toFixed(2)} M ticks/s (${sim.systemOrder.length} systems per tick, ${((s / done) * 1e9).toFixed(0)} ns per tick)`);
}

async function datacenter(): Promise<void> {
  const racks = 500;
  const perRack = 40;
  const text = `name: bench-datacenter
description: 20,000 hosts and 40,000 VMs with synthetic memory workloads, one simulated hour.
seed: 1
tick: 1s
duration: 1h
preset: headless
hosts:
  - { profile: x86-64-server, racks: ${racks}, perRack: ${perRack} }
vms:
  - name: web
    count: 16000
    vcpus: 2
    memory: 4GiB
    workload: { kind: synthetic, distribution: zipf, zipfExponent: 0.9, readsPerSecond: 20000, writesPerSecond: 2000, cpu: 0.3 }
  - name: batch
    count: 16000
    vcpus: 4
    memory: 8GiB
    workload: { kind: synthetic, distribution: uniform, workingSet: 2GiB, readsPerSecond: 5000, writesPerSecond: 5000, cpu: 0.8 }
  - name: phased
    count: 8000
    vcpus: 8
    memory: 16GiB
    workload:
      kind: synthetic
      repeat: true
      phases:
        - { duration: 10min, distribution: sequential, readsPerSecond: 20000, cpu: 0.5 }
        - { duration: 20min, distribution: uniform, workingSet: 4GiB, writesPerSecond: 10000, cpu: 0.9 }
record:
  every: 1min
  series: [dc.vms.running, workload.dirty-pages, dc.hosts.cpu-load.mean]
`;
  const t0 = performance.now();
  const sim = await bootText(text);
  const bootS = (performance.now() - t0) / 1000;
  const vms = 40000;
  const t1 = performance.now();
  let lastPrint = t1;
  sim.run((done, total) => {
    const now = performance.now();
    if (now - lastPrint > 10000) {
      lastPrint = now;
      console.log(`  … ${done}/${total} ticks, ${((now - t1) / 1000).toFixed(1)} s`);
    }
  }, 60);
  const runS = (performance.now() - t1) / 1000;
  await sim.finish();
  const ticks = sim.totalTicks;
  const running = sim.metrics.value('dc.vms.running');
  console.log(`datacenter 20,000 hosts / 40,000 VMs (${running} running), 1 h simulated at 1 s ticks:`);
  console.log(`  boot ${bootS.toFixed(2)} s, run ${runS.toFixed(2)} s: ${((vms * ticks) / runS / 1e6).toFixed(2)} M VM-ticks/s, ${(ticks / runS).toFixed(0)} ticks/s`);
  console.log(`  simulated hour in ${runS.toFixed(1)} s: ${(runS / HOUR_TARGET_S).toFixed(2)} of the ${HOUR_TARGET_S} s target (lower is better)`);
  console.log(`  peak RSS ${(peakRss() / 2 ** 20).toFixed(0)} MiB: ${(peakRss() / MEMORY_TARGET_BYTES).toFixed(2)} of the 4 GiB target`);
  console.log(`  for scale: CloudSim Plus reports 1.3 to 15.7 minutes for 20,000 hosts and 40,000 VMs without a memory-dirtying model`);
}

(async () => {
  await emptySimulation();
  await datacenter();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
