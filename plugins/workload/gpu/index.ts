// workload.gpu: GPU kernels as VM workloads, through GPU passthrough. At boot each
// distinct (benchmark, size, variant, GPU profile) is compiled through
// hooks.gpu.optimizeKernel (the selected gpu.jit plugin), executed once by the GPU
// model and checked against its CPU reference — a mismatch stops the run — and its
// kernel time is kept, with the time of the same kernel under the global-memory-only
// floor for the report. In the gpu phase, each VM whose group runs `kind: gpu` takes a
// free GPU of its host (one VM per GPU), copies its inputs, launches its kernels back
// to back on simulated time (each launch and completion fires its hook at its own
// instant, not rounded to the tick) and copies its outputs back; then it frees the GPU.

import { compileKernel, definePlugin, Host, HostGpu, runKernel, Vm, VmState, type GpuCounts, type GpuProfile, type Occupancy, type SimContext } from 'virtlab';
import { buildBenchmark, type BenchmarkName } from './benchmarks';
import { measure } from './measure';
import type { Options } from './options';

interface Job {
  vm: number;
  host: number;
  gpu: number;
  key: string;
  launchesLeft: number;
  /** Absolute time of the next event of the job: a kernel's completion, or the end of a copy. */
  next: number;
  state: 'waiting' | 'copy-in' | 'kernels' | 'copy-out' | 'done';
}

export default definePlugin<Options>((api) => {
  const kernels = api.counter('gpu.kernels', 'kernels', 'GPU kernels completed.');
  const busyNs = api.counter('gpu.busy-ns', 'ns', 'GPU time spent running kernels and copies, summed over GPUs.');
  const transferred = api.counter('gpu.transfer-bytes', 'bytes', 'Bytes copied between hosts and their GPUs.');
  const utilization = api.gauge('gpu.utilization', 'ratio', 'Busy GPUs over all GPUs of the hosts, over the last step.');
  const mismatches = api.counter('gpu.mismatches', 'elements', 'Output elements of a kernel that differ from the CPU reference (must stay 0).');
  /** What a kernel measured at boot: plain data, saved in snapshots so that a resumed run compiles nothing again. */
  interface Measurement {
    kernelNs: number;
    /** Execution time without the launch overhead, ns, and the global-memory-only kernel's. */
    executeNs: number;
    baselineExecuteNs: number;
    transferInNs: number;
    transferOutNs: number;
    counts: GpuCounts;
    occupancy: Occupancy;
    bound: string;
    baselineNs: number;
    bytesIn: number;
    bytesOut: number;
    name: string;
    profile: string;
    notes: string[];
  }
  const measured = new Map<string, Measurement>();
  const jobs: Job[] = [];
  const taken = new Map<number, Uint8Array>();
  let totalGpus = 0;

  api.hooks.lifecycle.boot.tap(api.id, (sim) => {
    const H = sim.world.store(Host);
    for (const h of sim.world.query([Host])) {
      const gpus = sim.scenario.hosts[H.profile[h]].profile.gpus ?? [];
      if (!gpus.length) continue;
      const G = sim.world.add(h, HostGpu);
      G.gpus[h] = gpus.length;
      taken.set(h, new Uint8Array(gpus.length));
      totalGpus += gpus.length;
    }
    const V = sim.world.store(Vm);
    for (const vm of sim.world.query([Vm])) {
      const w = sim.scenario.vms[V.group[vm]].workload;
      if (w?.kind !== 'gpu') continue;
      jobs.push({ vm, host: 0, gpu: -1, key: '', launchesLeft: w.launches as number, next: 0, state: 'waiting' });
    }
    if (jobs.length && !totalGpus) throw new Error(`workload.gpu: VMs run GPU kernels but no host profile of the scenario lists gpus: (use e.g. x86-64-v100 or x86-64-mi50)`);
  });

  const prepare = (sim: SimContext, vm: number, dev: GpuProfile): string => {
    const V = sim.world.store(Vm);
    const group = sim.scenario.vms[V.group[vm]];
    const w = group.workload!;
    const key = `${w.benchmark}/${w.size}/${w.radius}/${w.variant}/${dev.name}`;
    if (measured.has(key)) return key;
    const b = buildBenchmark(w.benchmark as BenchmarkName, w.size as number, w.radius as number);
    const m = measure(sim.hooks.gpu, b, w.variant as 'jit' | 'hand-tuned', dev);
    mismatches.add(m.mismatches);
    if (m.mismatches) throw new Error(`workload.gpu: VM group '${group.name}': ${b.name} on ${dev.name} differs from its CPU reference in ${m.mismatches} elements`);
    const floor = runKernel(compileKernel(undefined, b.kernel, dev), dev, b.inputs);
    const bytes = (access: string[]) => b.kernel.arrays.filter((a) => access.includes(a.access)).reduce((s, a) => s + a.length * 4, 0);
    measured.set(key, {
      kernelNs: m.kernelNs,
      executeNs: m.executeNs,
      baselineExecuteNs: floor.executeNs,
      transferInNs: m.transferInNs,
      transferOutNs: m.transferOutNs,
      counts: m.counts,
      occupancy: m.occupancy,
      bound: m.bound,
      baselineNs: floor.kernelNs,
      bytesIn: bytes(['in', 'inout']),
      bytesOut: bytes(['out', 'inout']),
      name: b.name,
      profile: dev.name,
      notes: [...(m.compiled.notes ?? [])],
    });
    return key;
  };

  api.addSystem({
    name: `${api.id}/run`,
    phase: 'gpu',
    reads: [Vm, Host],
    writes: [HostGpu],
    nextEventNs: (sim) => {
      let next = Infinity;
      for (const j of jobs) {
        if (j.state === 'done') continue;
        if (j.state === 'waiting') {
          // A VM that waits for placement or for a free GPU moves on at another event.
          continue;
        }
        next = Math.min(next, j.next);
      }
      return jobs.some((j) => j.state === 'waiting' && sim.world.store(Vm).state[j.vm] === VmState.Running && free(j, sim) >= 0) ? sim.timeNs : next;
    },
    run(sim, tick) {
      const V = sim.world.store(Vm);
      const G = sim.world.store(HostGpu);
      const end = sim.timeNs + tick.stepNs;
      const busyInStep = new Map<number, number>();
      for (const j of jobs) {
        if (j.state === 'waiting') {
          if (V.state[j.vm] !== VmState.Running) continue;
          const gpu = free(j, sim);
          if (gpu < 0) continue;
          j.host = V.host[j.vm];
          j.gpu = gpu;
          taken.get(j.host)![gpu] = 1;
          const dev = sim.scenario.hosts[sim.world.store(Host).profile[j.host]].profile.gpus[gpu];
          j.key = prepare(sim, j.vm, dev);
          const m = measured.get(j.key)!;
          j.state = 'copy-in';
          j.next = sim.timeNs + m.transferInNs;
          transferred.add(m.bytesIn);
        }
        let t = sim.timeNs;
        const active = () => (j.state as Job['state']) !== 'done' && (j.state as Job['state']) !== 'waiting';
        while (active() && j.next <= end) {
          const m = measured.get(j.key)!;
          busyInStep.set(j.host, (busyInStep.get(j.host) ?? 0) + (j.next - Math.max(t, sim.timeNs)));
          t = j.next;
          const event = { host: j.host, gpu: j.gpu, vm: j.vm, kernel: m.name, timeNs: t };
          if (j.state === 'kernels') {
            sim.hooks.gpu.kernelCompleted.call({ ...event, kernelNs: m.kernelNs, counts: m.counts });
            kernels.add();
            G.kernels[j.host]++;
            j.launchesLeft--;
          }
          if (j.state === 'copy-in' || (j.state === 'kernels' && j.launchesLeft > 0)) {
            j.state = 'kernels';
            sim.hooks.gpu.kernelLaunched.call(event);
            j.next = t + m.kernelNs;
          } else if (j.state === 'kernels') {
            j.state = 'copy-out';
            j.next = t + m.transferOutNs;
            transferred.add(m.bytesOut);
          } else {
            j.state = 'done';
            taken.get(j.host)![j.gpu] = 0;
          }
        }
        if (active()) busyInStep.set(j.host, (busyInStep.get(j.host) ?? 0) + (end - Math.max(t, sim.timeNs)));
      }
      let busy = 0;
      for (const [h] of taken) {
        const b = busyInStep.get(h) ?? 0;
        G.busy[h] = b / (tick.stepNs * G.gpus[h]);
        busy += b;
      }
      busyNs.add(busy);
      utilization.set(totalGpus ? busy / (tick.stepNs * totalGpus) : 0);
    },
  });

  /** A free GPU of the VM's host, or -1. */
  function free(j: Job, sim: SimContext): number {
    const host = sim.world.store(Vm).host[j.vm];
    const t = taken.get(host);
    if (!t) return -1;
    return t.indexOf(0);
  }

  // Snapshots (checkpoints, the visualizer's seek): the jobs, which GPUs are taken, and
  // the kernels measured so far (a resumed run compiles and measures nothing again).
  api.persist('jobs', {
    save: () => ({ jobs: jobs.map((j) => ({ ...j })), taken: [...taken].map(([h, t]) => [h, Array.from(t)]), measured: structuredClone([...measured]) }),
    load: (data) => {
      const d = data as { jobs: Job[]; taken: Array<[number, number[]]>; measured: Array<[string, Measurement]> };
      jobs.splice(0, jobs.length, ...d.jobs.map((j) => ({ ...j })));
      for (const [h, t] of d.taken) taken.get(h)?.set(t);
      measured.clear();
      for (const [k, m] of structuredClone(d.measured)) measured.set(k, m);
    },
  });

  api.hooks.lifecycle.finish.tapPromise(api.id, async (f) => {
    if (!measured.size) return;
    const rows = [...measured.entries()].map(([key, m]) => ({
      key,
      benchmark: m.name,
      gpu: m.profile,
      kernelNs: m.kernelNs,
      globalOnlyNs: m.baselineNs,
      speedup: m.baselineExecuteNs / m.executeNs,
      occupancy: m.occupancy,
      bound: m.bound,
      counts: m.counts,
      passes: m.notes,
    }));
    f.addFile('gpu/kernels.json', JSON.stringify(rows, null, 2) + '\n');
    for (const r of rows) f.addSummaryLine(`- GPU ${r.benchmark} on ${r.gpu.split(' (')[0]}: ${(r.kernelNs / 1000).toFixed(1)} µs per kernel with its launch, ${r.speedup.toFixed(2)}× the global-memory-only kernel's execution speed`);
  });
});
