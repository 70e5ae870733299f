// The TornadoVM reproduction's trends (MODELS.md §3), measured from the GPU model on
// an 8-compute-unit partition of each profile's GPU (tools/repro/tornado-lib.ts). Each
// test names the mutation of the mechanism that must break it; each was checked once
// to fail under it.

import { measureRow, PROFILES } from '../../tools/repro/tornado-lib';

const exact = (r: { baseline: { mismatches: number }; local: { mismatches: number }; hand?: { mismatches: number } }) => r.baseline.mismatches + r.local.mismatches + (r.hand?.mismatches ?? 0);

describe('TornadoVM: JIT use of GPU local memory', () => {
  // Mutation that breaks it: the loop-tiling pass stages the tiles but leaves the inner
  // loop reading global memory (a tile that is never reused).
  it('speeds matrix multiplication and reductions up on both GPUs, with outputs equal to the CPU reference', async () => {
    for (const p of PROFILES) {
      for (const b of ['matmul', 'reduction'] as const) {
        const r = await measureRow(b, p);
        expect(exact(r)).toBe(0);
        expect(r.speedup).toBeGreaterThan(1.3);
      }
    }
  });

  // Mutation that breaks it: the same (tile never reused): the JIT's kernel falls far
  // below the hand-tiled one.
  it('brings tiled matrix multiplication within reach of the hand-tuned kernel', async () => {
    for (const p of PROFILES) {
      const r = await measureRow('matmul', p);
      expect(r.ofHand).toBeGreaterThan(0.8);
    }
  });

  // Mutation that breaks it: the loop-tiling pass ignores the device's maximum
  // work-group size and always tiles by 16 (the tile width, the reuse, no longer moves).
  it('gains more as the tiles, and so the reuse, grow with the maximum work-group size', async () => {
    for (const p of PROFILES) {
      const s: number[] = [];
      for (const maxWorkGroupSize of [64, 256, 1024]) s.push((await measureRow('matmul', p, { gpu: { maxWorkGroupSize }, hand: false })).speedup);
      expect(s[1]).toBeGreaterThan(s[0]);
      expect(s[2]).toBeGreaterThan(s[1]);
    }
  });

  // Mutation that breaks it: the halo pass stages a block even when no neighbour reads
  // it (reuse not checked).
  it('gains nothing without reuse: saxpy, transpose and a 1×1 stencil are left as written', async () => {
    for (const p of PROFILES) {
      for (const r of [await measureRow('saxpy', p), await measureRow('transpose', p), await measureRow('stencil', p, { radius: 0 })]) {
        expect(exact(r)).toBe(0);
        expect(r.local.compiled.notes ?? []).toEqual([]);
        expect(r.speedup).toBe(1);
      }
    }
  });

  // Mutation that breaks it: no coalescing model (every active lane its own
  // transaction): the hand-tuned transpose's coalesced writes stop paying.
  it('leaves the hand-tuned transpose, which only coalesces, ahead of the JIT', async () => {
    for (const p of PROFILES) {
      const r = await measureRow('transpose', p);
      expect(r.ofHand).toBeLessThan(0.75);
    }
  });

  // Mutation that breaks it: a halo tile that is never reused (the halo pass stages the
  // block but the taps keep reading global memory).
  it('gains more on a stencil as its radius, and so the reuse, grows (MI50, whose L1 is slow)', async () => {
    const s: number[] = [];
    for (const radius of [1, 2, 3]) s.push((await measureRow('stencil', 'x86-64-mi50', { radius, hand: false })).speedup);
    expect(s[1]).toBeGreaterThan(s[0]);
    expect(s[2]).toBeGreaterThan(s[1]);
    expect(s[2]).toBeGreaterThan(1.2);
  });

  // Mutation that breaks it: occupancy ignores local memory (groups per compute unit
  // bounded by work-items and registers only).
  it('is bounded by local-memory capacity: less local memory, fewer resident work-groups, less gain', async () => {
    const s: number[] = [];
    const groups: number[] = [];
    for (const kib of [64, 4, 2]) {
      const r = await measureRow('matmul', 'x86-64-mi50', { gpu: { localMemoryPerCu: kib * 1024 }, hand: false });
      s.push(r.speedup);
      groups.push(r.local.occupancy.groupsPerCu);
    }
    expect(groups[1]).toBeLessThan(groups[0]);
    expect(groups[2]).toBeLessThan(groups[1]);
    expect(s[1]).toBeLessThan(s[0]);
    expect(s[2]).toBeLessThan(s[1]);
  });

  // Mutation that breaks it: a barrier that costs nothing.
  it('pays for its barriers: a dearer barrier lowers the gain', async () => {
    for (const p of PROFILES) {
      const cheap = await measureRow('matmul', p, { gpu: { barrierCycles: 20 }, hand: false });
      const dear = await measureRow('matmul', p, { gpu: { barrierCycles: 2000 }, hand: false });
      expect(dear.speedup).toBeLessThan(cheap.speedup * 0.9);
    }
  });
});
