// The GPU executor and the kernel builder: functional results, and the events the
// timing is made of (coalesced transactions, bank conflicts, occupancy, barriers),
// counted on kernels small enough to count by hand.

import { affineOf, KernelBuilder, occupancyOf, runKernel, gpuKernel, compileKernel, type GpuProfile } from 'virtlab';

const { add, mul } = gpuKernel;

/** A small GPU: 2 compute units, warps of 32, 32-byte transactions, 32 banks. */
const dev: GpuProfile = {
  name: 'test GPU',
  clock: 1e9,
  computeUnits: 2,
  warpWidth: 32,
  schedulersPerCu: 1,
  maxWorkGroupSize: 256,
  maxWorkItemsPerCu: 1024,
  maxWorkGroupsPerCu: 8,
  registersPerCu: 65536,
  localMemoryPerCu: 16384,
  localMemoryPerGroup: 0,
  localLatencyCycles: 20,
  localBanks: 32,
  globalMemory: 1 << 30,
  globalLatencyCycles: 400,
  globalBandwidth: 8e11,
  transactionBytes: 32,
  barrierCycles: 20,
  launchOverhead: 1000,
  transferBandwidth: 8e10,
  transferLatency: 0,
};

/** A kernel reading x with stride `stride` into y: one warp, one load instruction. */
function strided(stride: number) {
  const b = new KernelBuilder('strided', [32]).workGroup(32);
  const x = b.input('x', 'f32', 32 * stride);
  const y = b.output('y', 'f32', 32);
  b.store(y, b.gid(0), x.at(mul(b.gid(0), stride)));
  return { k: b.build(), x: Float32Array.from({ length: 32 * stride }, (_, i) => i) };
}

describe('GPU executor', () => {
  it('computes a kernel’s results and copies its inputs rather than writing them', () => {
    const b = new KernelBuilder('saxpy', [256]);
    const x = b.input('x', 'f32', 256);
    const y = b.inout('y', 'f32', 256);
    b.store(y, b.gid(0), add(mul(3, x.at(b.gid(0))), y.at(b.gid(0))));
    const xs = Float32Array.from({ length: 256 }, (_, i) => i);
    const ys = Float32Array.from({ length: 256 }, (_, i) => 1 - i);
    const r = runKernel(compileKernel(undefined, b.build(), dev), dev, { x: xs, y: ys });
    expect(Array.from(r.buffers.get('y')!)).toEqual(Array.from({ length: 256 }, (_, i) => 3 * i + 1 - i));
    expect(ys[5]).toBe(-4);
  });

  it('coalesces a warp’s contiguous loads into one transaction per 32-byte segment, and strided ones not', () => {
    const c = strided(1);
    expect(runKernel(c.k, dev, { x: c.x }).counts.globalLoads).toBe(1);
    // 32 lanes × 4 bytes = 128 bytes: 4 loads' segments plus 4 stores'.
    expect(runKernel(c.k, dev, { x: c.x }).counts.globalTransactions).toBe(8);
    const s = strided(8);
    // Each lane 32 bytes apart: 32 load transactions, 4 store transactions.
    expect(runKernel(s.k, dev, { x: s.x }).counts.globalTransactions).toBe(36);
  });

  it('serializes local accesses of one warp to distinct words of one bank, and broadcasts one word', () => {
    const run = (index: (lid: gpuKernel.Expr) => gpuKernel.Expr) => {
      const b = new KernelBuilder('banks', [32]).workGroup(32);
      const t = b.localArray('t', 'f32', 64 * 32);
      const y = b.output('y', 'f32', 32);
      b.store(t, index(b.lid(0)), 1);
      b.store(y, b.gid(0), t.at(index(b.lid(0))));
      return runKernel(b.build(), dev, {}).counts;
    };
    expect(run((l) => l).bankConflictCycles).toBe(0);
    // Stride 2 words: two lanes per bank (degree 2), on the store and on the load.
    expect(run((l) => mul(l, 2)).bankConflictCycles).toBe(2);
    // Stride 32 words: all 32 lanes in bank 0.
    expect(run((l) => mul(l, 32)).bankConflictCycles).toBe(62);
    // Every lane the same word: a broadcast.
    expect(run(() => gpuKernel.lit(5)).bankConflictCycles).toBe(0);
  });

  it('limits resident work-groups by local memory and refuses a work-group that cannot fit', () => {
    const make = (words: number) => {
      const b = new KernelBuilder('lm', [1024]).workGroup(128);
      b.localArray('t', 'f32', words);
      const y = b.output('y', 'f32', 1024);
      b.store(y, b.gid(0), 0);
      return b.build();
    };
    expect(occupancyOf(make(16), dev)).toMatchObject({ groupsPerCu: 8, limit: 'work-items' });
    expect(occupancyOf(make(2048), dev)).toMatchObject({ groupsPerCu: 2, limit: 'local-memory' });
    expect(() => occupancyOf(make(8192), dev)).toThrow(/32768 bytes of local memory per work-group exceed test GPU's 16384/);
  });

  it('charges barriers, and a dearer barrier makes a kernel slower', () => {
    const b = new KernelBuilder('bar', [256]).workGroup(64);
    const y = b.output('y', 'f32', 256);
    b.barrier();
    b.store(y, b.gid(0), 1);
    const k = b.build();
    const r = runKernel(k, dev, {});
    expect(r.counts.barriers).toBe(8);
    expect(runKernel(k, { ...dev, barrierCycles: 2000 }, {}).executeNs).toBeGreaterThan(r.executeNs);
  });

  it('refuses out-of-range reads, missing inputs and unlowered reductions with the kernel’s name', () => {
    const c = strided(1);
    expect(() => runKernel(c.k, dev, {})).toThrow(/kernel 'strided': input array 'x' was not given/);
    const b = new KernelBuilder('oob', [32]).workGroup(32);
    const x = b.input('x', 'f32', 32);
    const y = b.output('y', 'f32', 32);
    b.store(y, b.gid(0), x.at(add(b.gid(0), 1)));
    expect(() => runKernel(b.build(), dev, { x: new Float32Array(32) })).toThrow(/kernel 'oob' reads x\[32\] outside its 32 elements/);
    const r = new KernelBuilder('red', [32]).workGroup(32);
    r.reduce('add', r.output('s', 'f32', 1), 1);
    expect(() => runKernel(r.build(), dev, {})).toThrow(/still has a reduction/);
  });

  it('lowers a reduction left by the passes to a global-memory tree whose partials the host combines', () => {
    const b = new KernelBuilder('sum', [1024]);
    const x = b.input('x', 'f32', 1024);
    b.reduce('add', b.output('s', 'f32', 1), x.at(b.gid(0)));
    const k = compileKernel(undefined, b.build(), dev);
    expect(k.local).toEqual([256]);
    const xs = Float32Array.from({ length: 1024 }, (_, i) => i % 7);
    const r = runKernel(k, dev, { x: xs });
    expect(r.buffers.get('s')![0]).toBe(xs.reduce((a, v) => a + v, 0));
    expect(r.counts.localAccesses).toBe(0);
  });
});

describe('kernel builder', () => {
  it('refuses a third dimension, a second array of one name and a work-group that does not divide', () => {
    expect(() => new KernelBuilder('k', [1, 2, 3])).toThrow(/1 or 2 dimensions/);
    const b = new KernelBuilder('k', [100]);
    b.input('a', 'f32', 4);
    expect(() => b.input('a', 'f32', 4)).toThrow(/array 'a' is declared twice/);
    expect(() => b.workGroup(30)).toThrow(/30 does not divide the index space 100/);
    expect(() => b.gid(1)).toThrow(/dimension 1 does not exist/);
  });

  it('reads affine index expressions as coefficients of ids and loop variables', () => {
    const b = new KernelBuilder('k', [8, 8]);
    const e = add(mul(add(b.gid(1), gpuKernel.v('dy')), 10), add(b.gid(0), 3));
    const a = affineOf(e, new Set(['dy']))!;
    expect(a.c).toBe(3);
    expect(Object.fromEntries(a.terms)).toEqual({ gid1: 10, dy: 10, gid0: 1 });
    expect(affineOf(mul(b.gid(0), b.gid(1)), new Set())).toBeUndefined();
  });
});
