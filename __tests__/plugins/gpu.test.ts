// The GPU plugins through real simulations: the local-memory JIT's sizing rule and
// passes, every benchmark (JIT-compiled under both gpu.jit plugins, and hand-tuned)
// against its CPU reference on both GPU profiles, and workload.gpu running kernels on
// passed-through GPUs on simulated time.

import { scenario } from 'virtlab';
import { bootText, runText } from 'virtlab/testing';
import { localArraySize } from '../../plugins/gpu/jit-local-memory/sizing';
import { BENCHMARK_NAMES, buildBenchmark } from '../../plugins/workload/gpu/benchmarks';
import { measure } from '../../plugins/workload/gpu/measure';

const SMALL = { reduction: 4096, matmul: 32, transpose: 32, stencil: 32, saxpy: 1024 } as const;

const jit = (id: string, profile: string) => bootText(scenario('gpu-jit').preset('minimal').duration('1ms').tick('1ms').hosts({ profile }).plugin('datacenter.racks').plugin(id));

describe('gpu.jit.local-memory', () => {
  it('sizes local arrays from the maximum work-group size: quartered when equal to the domain, capped by it, shrunk to divide it', () => {
    expect(localArraySize([4096], { maxWorkGroupSize: 1024 })).toEqual([1024]);
    expect(localArraySize([1024], { maxWorkGroupSize: 1024 })).toEqual([256]);
    expect(localArraySize([100], { maxWorkGroupSize: 1024 })).toEqual([100]);
    expect(localArraySize([1000], { maxWorkGroupSize: 256 })).toEqual([250]);
    expect(localArraySize([128, 32], { maxWorkGroupSize: 1024 })).toEqual([32, 8]);
    expect(localArraySize([96, 96], { maxWorkGroupSize: 256 })).toEqual([16, 16]);
  });

  it('stages what neighbours reuse and nothing else, and every kernel equals its CPU reference under both JITs', async () => {
    for (const profile of ['x86-64-v100', 'x86-64-mi50']) {
      const base = await jit('gpu.jit.baseline', profile);
      const lm = await jit('gpu.jit.local-memory', profile);
      const dev = base.scenario.hosts[0].profile.gpus[0];
      for (const name of BENCHMARK_NAMES) {
        const b = buildBenchmark(name, SMALL[name], 1);
        const g = measure(base.hooks.gpu, b, 'jit', dev);
        const l = measure(lm.hooks.gpu, b, 'jit', dev);
        const h = measure(lm.hooks.gpu, b, 'hand-tuned', dev);
        expect([name, g.mismatches, l.mismatches, h.mismatches]).toEqual([name, 0, 0, 0]);
        expect(g.compiled.arrays.some((a) => a.space === 'local')).toBe(false);
        const notes = (l.compiled.notes ?? []).join('; ');
        if (name === 'matmul') expect(notes).toMatch(/A staged in local tiles.*B staged in local tiles/);
        if (name === 'stencil') expect(notes).toMatch(/in: work-group block with its halo/);
        if (name === 'reduction') expect(notes).toMatch(/tree in local memory/);
        if (name === 'saxpy' || name === 'transpose') expect(notes).toBe('');
        expect(l.counts.localAccesses > 0).toBe(name !== 'saxpy' && name !== 'transpose');
      }
    }
  });
});

describe('workload.gpu', () => {
  const gpuScenario = (tick: string) =>
    scenario('gpu-vms')
      .tick(tick)
      .advance('event')
      .duration('5ms')
      .hosts({ profile: 'x86-64-mi50' })
      .vms(
        { name: 'mm', count: 3, vcpus: 2, memory: '4GiB', workload: { kind: 'gpu', benchmark: 'matmul', size: 32, launches: 50 } },
        { name: 'idle', count: 1, vcpus: 1, memory: '1GiB' },
      )
      .plugin('gpu.jit.local-memory')
      .plugin('workload.gpu')
      .record({ every: '1ms', series: ['gpu.utilization', 'gpu.kernels'] });

  it('runs each VM’s kernels on its own passed-through GPU, one VM per GPU, on simulated time independent of the tick', async () => {
    const a = await runText(gpuScenario('100us'));
    const b = await runText(gpuScenario('1ms'));
    const m = (r: typeof a, name: string) => r.sim.metrics.value(name);
    // Two GPUs for three VMs: the third waits for a free one, and all 150 kernels complete.
    expect(m(a, 'gpu.kernels')).toBe(150);
    expect(m(a, 'gpu.mismatches')).toBe(0);
    expect(m(a, 'gpu.busy-ns')).toBeGreaterThan(0);
    expect(m(b, 'gpu.kernels')).toBe(150);
    expect(m(b, 'gpu.busy-ns')).toBeCloseTo(m(a, 'gpu.busy-ns')!, 3);
    const kernels = JSON.parse(a.result.files.get('gpu/kernels.json')!) as Array<{ benchmark: string; speedup: number; counts: { globalTransactions: number } }>;
    expect(kernels).toHaveLength(1);
    expect(kernels[0].benchmark).toBe('matmul');
    expect(kernels[0].counts.globalTransactions).toBeGreaterThan(0);
    expect(a.result.summary).toMatch(/GPU matmul on AMD Radeon Instinct MI50 16 GB: [\d.]+ µs per kernel/);
  });

  it('resumes from a snapshot taken mid-run with the uninterrupted run’s metrics', async () => {
    const whole = await runText(gpuScenario('100us'));
    const first = await bootText(gpuScenario('100us'));
    first.runUntil(1_500_000);
    const snap = first.snapshot();
    const second = await bootText(gpuScenario('100us'));
    second.restore(snap);
    second.run();
    const resumed = await second.finish();
    expect(resumed.metricsJson).toBe(whole.result.metricsJson);
  });

  it('refuses GPU workloads when no host has a GPU, naming the fix', async () => {
    const s = gpuScenario('1ms').host(0, { profile: 'x86-64-server' });
    await expect(bootText(s)).rejects.toThrow(/no host profile of the scenario lists gpus: \(use e\.g\. x86-64-v100 or x86-64-mi50\)/);
  });
});
