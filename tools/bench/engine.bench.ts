// Engine benchmarks (`npm run bench`): the framework's own cost per tick (an empty
// simulation with the bench.empty plugin), and datacenters of 20,000 hosts with 40,000
// VMs and of 200,000 hosts with 400,000 VMs, running synthetic memory workloads for
// one simulated hour at 1 s ticks. Each datacenter runs in a child process
// (datacenter-run.ts) with its own heap limit, so that its peak memory is its own.
// Figures are measured in this run and printed with their ratios to the targets;
// nothing here is asserted by the test suite.
//
//   npm run bench -- [--repeat n] [--small]     (--small runs the 20,000-host datacenter alone)

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../node/catalog';
import { bootText } from '../node/testing';

const GiB = 2 ** 30;

/** A datacenter size and its targets on a 2-core machine. */
interface Case {
  readonly hosts: number;
  readonly vms: number;
  readonly runTargetS: number;
  readonly memoryTargetBytes: number;
  /** --max-old-space-size of its process, MiB. */
  readonly heapMiB: number;
  /** `event`: the run advances from event to event (here, sample to sample) instead of tick by tick. */
  readonly advance?: 'event';
}

const CASES: readonly Case[] = [
  { hosts: 20_000, vms: 40_000, runTargetS: 10, memoryTargetBytes: 4 * GiB, heapMiB: 4096 },
  { hosts: 200_000, vms: 400_000, runTargetS: 120, memoryTargetBytes: 8 * GiB, heapMiB: 7168 },
  // For comparison, not a target: the same hour when steps span the ticks between samples.
  { hosts: 200_000, vms: 400_000, runTargetS: 120, memoryTargetBytes: 8 * GiB, heapMiB: 7168, advance: 'event' },
];

interface Measurement {
  hosts: number;
  vms: number;
  running: number;
  ticks: number;
  bootS: number;
  runS: number;
  cpuS: number;
  peakRssBytes: number;
  peakHeapBytes: number;
  metricsSha256: string;
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
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  sim.run();
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const done = ticks - 10_000;
  console.log(
    `empty simulation: ${(done / s / 1e6).toFixed(2)} M ticks/s (${sim.systemOrder.length} systems per tick, ${((s / done) * 1e9).toFixed(0)} ns per tick wall, ${((cpuS / done) * 1e9).toFixed(0)} ns CPU)`,
  );
}

/** Runs one datacenter in a fresh process and returns what it measured. */
function measure(c: Case): Measurement {
  const script = [path.join(REPO_ROOT, 'tools/build/run.js'), path.join(REPO_ROOT, 'tools/bench/datacenter-run.ts'), String(c.hosts), String(c.vms), c.advance ?? 'tick'];
  const r = spawnSync(process.execPath, [`--max-old-space-size=${c.heapMiB}`, ...script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`the datacenter of ${c.hosts} hosts failed (status ${r.status}): ${r.stdout}`);
  return JSON.parse(line) as Measurement;
}

async function datacenter(c: Case, repeat: number): Promise<void> {
  const runs: Measurement[] = [];
  for (let i = 0; i < repeat; i++) runs.push(measure(c));
  const best = (f: (m: Measurement) => number) => Math.min(...runs.map(f));
  const m = runs[0];
  const runS = best((x) => x.runS);
  const cpuS = best((x) => x.cpuS);
  const rss = Math.max(...runs.map((x) => x.peakRssBytes));
  const heap = Math.max(...runs.map((x) => x.peakHeapBytes));
  const same = runs.every((x) => x.metricsSha256 === m.metricsSha256);
  const n = (x: number) => x.toLocaleString('en-US');
  const how = c.advance === 'event' ? 'at 1 s ticks with advance: event (one step per sample)' : 'at 1 s ticks';
  console.log(`datacenter ${n(m.hosts)} hosts / ${n(m.vms)} VMs (${n(m.running)} running), 1 h simulated ${how}${repeat > 1 ? `, best of ${repeat}` : ''}:`);
  console.log(`  boot ${best((x) => x.bootS).toFixed(2)} s, run ${runS.toFixed(2)} s wall: ${((m.vms * m.ticks) / runS / 1e6).toFixed(2)} M VM-ticks/s`);
  console.log(`  simulated hour in ${runS.toFixed(1)} s: ${(runS / c.runTargetS).toFixed(2)} of the ${c.runTargetS} s target (lower is better)`);
  console.log(`  CPU time ${cpuS.toFixed(1)} s, boot and run (user + system; wall time above it means the cores were shared): ${(cpuS / c.runTargetS).toFixed(2)} of the target`);
  console.log(`  peak RSS ${(rss / 2 ** 20).toFixed(0)} MiB, peak heap ${(heap / 2 ** 20).toFixed(0)} MiB: ${(rss / c.memoryTargetBytes).toFixed(2)} of the ${c.memoryTargetBytes / GiB} GiB target`);
  if (repeat > 1) console.log(`  metrics.json ${same ? 'identical in every run' : 'DIFFERS between runs'} (sha256 ${m.metricsSha256.slice(0, 16)}…)`);
}

(async () => {
  const args = process.argv.slice(2);
  const at = args.indexOf('--repeat');
  const repeat = at >= 0 ? Math.max(1, Number(args[at + 1]) || 1) : 1;
  await emptySimulation();
  for (const c of args.includes('--small') ? CASES.slice(0, 1) : CASES) await datacenter(c, c.advance ? 1 : repeat);
  console.log('for scale: CloudSim Plus reports 1.3 to 15.7 minutes for 20,000 hosts and 40,000 VMs without a memory-dirtying model');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
