// One datacenter measurement for `npm run bench`, in a fresh process so that its peak
// memory is its own: boots a datacenter of the given size running synthetic memory
// workloads (two VMs per host: Zipf web servers, uniform batch jobs and phased jobs
// in the proportions 2:2:1), runs one simulated hour at 1 s ticks, and prints one
// JSON line — boot and run wall time, the process's CPU time, peak RSS and peak heap,
// and the digest of metrics.json (equal digests: identical results).
//
//   node --max-old-space-size=<MiB> tools/build/run.js tools/bench/datacenter-run.ts <hosts> <vms> [tick|event] [poisson|fluid]

import { createHash } from 'node:crypto';
import { bootText } from '../node/testing';

/** The scenario text of a datacenter with `hosts` hosts (40 per rack) and `vms` VMs. */
function datacenterScenario(hosts: number, vms: number, advance: string, arrivals: string): string {
  const perRack = 40;
  const racks = Math.ceil(hosts / perRack);
  const web = Math.round(vms * 0.4);
  const batch = Math.round(vms * 0.4);
  const phased = vms - web - batch;
  return `name: bench-datacenter
description: ${racks * perRack} hosts and ${vms} VMs with synthetic memory workloads, one simulated hour.
seed: 1
tick: 1s
duration: 1h
advance: ${advance}
preset: headless
plugins:
  workload.synthetic: { arrivals: ${arrivals} }
hosts:
  - { profile: x86-64-server, racks: ${racks}, perRack: ${perRack} }
vms:
  - name: web
    count: ${web}
    vcpus: 2
    memory: 4GiB
    workload: { kind: synthetic, distribution: zipf, zipfExponent: 0.9, readsPerSecond: 20000, writesPerSecond: 2000, cpu: 0.3 }
  - name: batch
    count: ${batch}
    vcpus: 4
    memory: 8GiB
    workload: { kind: synthetic, distribution: uniform, workingSet: 2GiB, readsPerSecond: 5000, writesPerSecond: 5000, cpu: 0.8 }
  - name: phased
    count: ${phased}
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
}

interface DatacenterMeasurement {
  readonly hosts: number;
  readonly vms: number;
  readonly running: number;
  readonly ticks: number;
  readonly bootS: number;
  readonly runS: number;
  /** CPU time of the whole process (user + system) from before boot to the end of the run, s. */
  readonly cpuS: number;
  readonly peakRssBytes: number;
  readonly peakHeapBytes: number;
  readonly metricsSha256: string;
}

async function main(): Promise<void> {
  const hosts = Number(process.argv[2] ?? 20000);
  const vms = Number(process.argv[3] ?? 40000);
  const advance = process.argv[4] ?? 'tick';
  const arrivals = process.argv[5] ?? 'poisson';
  let peakHeap = 0;
  const heap = () => {
    const h = process.memoryUsage().heapUsed;
    if (h > peakHeap) peakHeap = h;
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sim = await bootText(datacenterScenario(hosts, vms, advance, arrivals));
  const bootS = (performance.now() - t0) / 1000;
  heap();
  const t1 = performance.now();
  let lastPrint = t1;
  sim.run((done, total) => {
    heap();
    const now = performance.now();
    if (now - lastPrint > 10000) {
      lastPrint = now;
      process.stderr.write(`  … ${done}/${total} ticks, ${((now - t1) / 1000).toFixed(1)} s\n`);
    }
  }, 60);
  const runS = (performance.now() - t1) / 1000;
  const cpu = process.cpuUsage(cpu0);
  heap();
  const result = await sim.finish();
  const m: DatacenterMeasurement = {
    hosts,
    vms,
    running: sim.metrics.value('dc.vms.running') ?? 0,
    ticks: sim.totalTicks,
    bootS,
    runS,
    cpuS: (cpu.user + cpu.system) / 1e6,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    peakHeapBytes: peakHeap,
    metricsSha256: createHash('sha256').update(result.metricsJson).digest('hex'),
  };
  console.log(JSON.stringify(m));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
