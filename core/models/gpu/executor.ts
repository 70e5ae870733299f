// The GPU executor: runs a kernel's IR (kernel.ts) functionally, by work-group and
// warp, and times it from the events it counts. It is the machine model that the GPU
// plugins share; a JIT only rewrites the IR it runs.
//
// Execution. Work-groups are dispatched in waves: as many as fit on the device at
// once (occupancy, limited by work-items, work-groups, local memory and registers per
// compute unit), spread round-robin over the compute units. A wave runs in lockstep,
// statement by statement, over all its work-items as one vector (loops have constant
// bounds, so control flow is uniform; `if` is a lane mask). Lockstep order satisfies
// every barrier, so results are those of any correct schedule; a kernel that needs a
// barrier it lacks still computes right here — what a barrier costs is timed, not its
// absence. Values are computed in double precision and rounded to f32 when stored.
//
// Counting, per warp instruction (never per access through a hook):
// - global loads and stores: the distinct aligned segments of `transactionBytes`
//   touched by the warp's active lanes are its transactions (coalescing); each goes
//   through the compute unit's L1 and then the device's L2, set-associative LRU caches
//   of such lines (a miss of both goes to device memory); stores pass the L1 by and
//   are written through to device memory;
// - local loads and stores: the warp's words spread over `localBanks` 4-byte banks;
//   distinct words in one bank serialize (a bank conflict), the same word is a
//   broadcast;
// - arithmetic: one issue slot per warp with an active lane; barriers.
//
// Timing, per wave and compute unit (cycles): the largest of the issue time (warp
// instructions over schedulers), the local-memory time (one warp access per cycle,
// conflicts replayed) and the mean latency chain of its warps (each load waits its
// tier's latency — the loads of one statement together, for the slowest — each barrier
// its cost; resident warps overlap their waits, so more
// resident warps hide more latency — the reason occupancy matters) and the time the
// L1 needs to deliver its lines. A wave lasts as
// long as its slowest compute unit, or as long as the L2 and device memory need to
// move its bytes at their bandwidths if that is longer. A launch adds the launch
// overhead; copies add latency plus bytes over the bus bandwidth.

import { affineOf, type Expr, type Kernel, type Stmt } from './kernel';
import type { GpuProfile } from './profile';

export type GpuBuffer = Float32Array | Int32Array;

/** Event counts of one launch, summed over the whole index space. */
export interface GpuCounts {
  workGroups: number;
  waves: number;
  warps: number;
  warpInstructions: number;
  globalLoads: number;
  globalStores: number;
  /** Global transactions after coalescing (loads and stores). */
  globalTransactions: number;
  l1Hits: number;
  l2Hits: number;
  l2Misses: number;
  /** Bytes moved to or from device memory. */
  dramBytes: number;
  /** Warp instructions that access local memory. */
  localAccesses: number;
  /** Extra cycles of local accesses serialized by bank conflicts. */
  bankConflictCycles: number;
  /** Warp arrivals at barriers. */
  barriers: number;
}

export interface Occupancy {
  groupsPerCu: number;
  /** What bounds it: 'work-items', 'work-groups', 'local-memory' or 'registers'. */
  limit: 'work-items' | 'work-groups' | 'local-memory' | 'registers';
  /** Local memory of one work-group, bytes. */
  localBytes: number;
  /** Estimated 32-bit registers per work-item. */
  registers: number;
  /** Resident warps per compute unit over the most it could hold. */
  ratio: number;
}

export interface LaunchResult {
  counts: GpuCounts;
  occupancy: Occupancy;
  /** Kernel time from launch to completion, ns (launch overhead included). */
  kernelNs: number;
  /** Time the device spends executing the kernel, ns (kernelNs without the launch overhead): what OpenCL profiling events measure. */
  executeNs: number;
  /** Host → device copies of the inputs, and device → host of the outputs, ns. */
  transferInNs: number;
  transferOutNs: number;
  /** Which bound dominated most waves: 'issue', 'local', 'latency', 'l1', 'l2' or 'dram'. */
  bound: string;
  /** Every global array after the run (outputs, and reductions finished on the host). */
  buffers: Map<string, GpuBuffer>;
}

const elemBytes = 4;

/** Estimated registers of one work-item: ids, pointers and the loop and private values the body keeps live. */
export function estimateRegisters(k: Kernel): number {
  const privates = new Set<string>();
  let loops = 0;
  let loads = 0;
  const walkE = (e: Expr): void => {
    if (e.k === 'load') {
      loads++;
      walkE(e.index);
    } else if (e.k === 'bin') {
      walkE(e.a);
      walkE(e.b);
    }
  };
  const walk = (b: readonly Stmt[]): void => {
    for (const s of b) {
      if (s.k === 'set') {
        privates.add(s.name);
        walkE(s.value);
      } else if (s.k === 'for') {
        loops++;
        walk(s.body);
      } else if (s.k === 'if') {
        walkE(s.cond);
        walk(s.then);
      } else if (s.k === 'store') {
        walkE(s.index);
        walkE(s.value);
      } else if (s.k === 'reduce') walkE(s.value);
    }
  };
  walk(k.body);
  // 8 for ids and sizes, 2 per global array pointer, 1 per private, loop counter and live load.
  return 8 + 2 * k.arrays.filter((a) => a.space === 'global').length + privates.size + loops + Math.min(loads, 8);
}

/** Occupancy of a kernel on a device; throws a one-line error when a work-group cannot fit. */
export function occupancyOf(k: Kernel, dev: GpuProfile): Occupancy {
  const local = k.local;
  if (!local) throw new Error(`kernel '${k.name}' has no work-group size; a JIT pass (gpu.jit.*) or workGroup() sets it`);
  const groupSize = local.reduce((a, b) => a * b, 1);
  if (groupSize > dev.maxWorkGroupSize) throw new Error(`kernel '${k.name}': work-group of ${groupSize} work-items exceeds ${dev.name}'s maximum of ${dev.maxWorkGroupSize}`);
  const localBytes = k.arrays.filter((a) => a.space === 'local').reduce((s, a) => s + a.length * elemBytes, 0);
  const perGroupMax = dev.localMemoryPerGroup || dev.localMemoryPerCu;
  if (localBytes > perGroupMax) throw new Error(`kernel '${k.name}': ${localBytes} bytes of local memory per work-group exceed ${dev.name}'s ${perGroupMax}`);
  const registers = estimateRegisters(k);
  const warpsPerGroup = Math.ceil(groupSize / dev.warpWidth);
  const limits: Array<[Occupancy['limit'], number]> = [
    ['work-items', Math.floor(dev.maxWorkItemsPerCu / (warpsPerGroup * dev.warpWidth))],
    ['work-groups', dev.maxWorkGroupsPerCu],
    ['local-memory', localBytes > 0 ? Math.floor(dev.localMemoryPerCu / localBytes) : Infinity],
    ['registers', Math.floor(dev.registersPerCu / (registers * warpsPerGroup * dev.warpWidth))],
  ];
  let [limit, groupsPerCu] = limits[0];
  for (const [l, n] of limits) if (n < groupsPerCu) [limit, groupsPerCu] = [l, n];
  if (groupsPerCu < 1) throw new Error(`kernel '${k.name}': one work-group of ${groupSize} does not fit on a compute unit of ${dev.name} (${limit})`);
  const ratio = (groupsPerCu * warpsPerGroup * dev.warpWidth) / dev.maxWorkItemsPerCu;
  return { groupsPerCu, limit, localBytes, registers, ratio: Math.min(1, ratio) };
}

/** A set-associative LRU cache of lines, indexed by line number. */
class LineCache {
  private readonly tags: Float64Array;
  private readonly stamps: Float64Array;
  private readonly sets: number;
  private clock = 0;
  constructor(
    lines: number,
    private readonly ways: number,
  ) {
    this.sets = Math.max(1, Math.floor(lines / ways));
    this.tags = new Float64Array(this.sets * ways).fill(-1);
    this.stamps = new Float64Array(this.sets * ways);
  }
  /** Looks a line up, filling it on a miss; true on a hit. */
  access(line: number): boolean {
    const base = (line % this.sets) * this.ways;
    let victim = base;
    this.clock++;
    for (let w = base; w < base + this.ways; w++) {
      if (this.tags[w] === line) {
        this.stamps[w] = this.clock;
        return true;
      }
      if (this.stamps[w] < this.stamps[victim]) victim = w;
    }
    this.tags[victim] = line;
    this.stamps[victim] = this.clock;
    return false;
  }
}

type Val = number | Float64Array;

/** Runs one launch of `k` on `dev` over `inputs` (global arrays by name); missing outputs and temporaries start zeroed. */
export function runKernel(k: Kernel, dev: GpuProfile, inputs: ReadonlyMap<string, GpuBuffer> | Record<string, GpuBuffer>): LaunchResult {
  const occ = occupancyOf(k, dev);
  const local = k.local!;
  const l0 = local[0];
  const l1 = local[1] ?? 1;
  const g0 = k.global[0];
  const g1 = k.global[1] ?? 1;
  if (g0 % l0 || g1 % l1) throw new Error(`kernel '${k.name}': work-group ${local.join('×')} does not divide the index space ${k.global.join('×')}`);
  const groupSize = l0 * l1;
  const n0 = g0 / l0;
  const nGroups = n0 * (g1 / l1);
  const W = dev.warpWidth;
  const warpsPerGroup = Math.ceil(groupSize / W);
  const tx = dev.transactionBytes;

  // Global arrays: the caller's, or fresh ones; each starts on a 256-byte boundary of device memory.
  const input = inputs instanceof Map ? inputs : new Map(Object.entries(inputs));
  const buffers = new Map<string, GpuBuffer>();
  const base = new Map<string, number>();
  let addr = 0;
  let bytesIn = 0;
  let bytesOut = 0;
  for (const a of k.arrays) {
    if (a.space !== 'global') continue;
    let b = input.get(a.name);
    if (b && b.length !== a.length) throw new Error(`kernel '${k.name}': array '${a.name}' has ${b.length} elements, the kernel declares ${a.length}`);
    if (!b && (a.access === 'in' || a.access === 'inout')) throw new Error(`kernel '${k.name}': input array '${a.name}' was not given`);
    b = b ? b.slice() : a.type === 'i32' ? new Int32Array(a.length) : new Float32Array(a.length);
    buffers.set(a.name, b);
    base.set(a.name, addr);
    addr += Math.ceil((a.length * elemBytes) / 256) * 256;
    if (a.access === 'in' || a.access === 'inout') bytesIn += a.length * elemBytes;
  }
  for (const a of k.arrays) if (a.space === 'global' && (a.access === 'out' || a.access === 'inout')) bytesOut += a.length * elemBytes;
  for (const f of k.hostFinish ?? []) bytesOut += (buffers.get(f.partials)?.length ?? 0) * elemBytes - (buffers.get(f.target)?.length ?? 0) * elemBytes;
  const localBase = new Map<string, number>();
  let localWords = 0;
  for (const a of k.arrays) {
    if (a.space !== 'local') continue;
    localBase.set(a.name, localWords);
    localWords += a.length;
  }
  const isLocal = (name: string) => localBase.has(name);

  const l2 = dev.l2 ? new LineCache(Math.floor(dev.l2.size / tx), dev.l2.ways) : undefined;
  // One L1 per compute unit; its contents persist across waves, as the hardware's do.
  const l1s = dev.l1 ? Array.from({ length: dev.computeUnits }, () => new LineCache(Math.floor(dev.l1!.size / tx), dev.l1!.ways)) : undefined;
  const counts: GpuCounts = {
    workGroups: nGroups,
    waves: 0,
    warps: nGroups * warpsPerGroup,
    warpInstructions: 0,
    globalLoads: 0,
    globalStores: 0,
    globalTransactions: 0,
    l1Hits: 0,
    l2Hits: 0,
    l2Misses: 0,
    dramBytes: 0,
    localAccesses: 0,
    bankConflictCycles: 0,
    barriers: 0,
  };
  const boundCount = new Map<string, number>();
  // Affine indices (in the ids and loop counters) become base-plus-offset addressing
  // with strength-reduced pointers, as any GPU compiler emits them: their arithmetic
  // takes no issue slot of its own. Other index arithmetic (a division, a modulo) does.
  const loopVars = new Set<string>();
  const collect = (b: readonly Stmt[]): void => {
    for (const st of b) {
      if (st.k === 'for') {
        loopVars.add(st.v);
        collect(st.body);
      } else if (st.k === 'if') collect(st.then);
    }
  };
  collect(k.body);
  const affineIndex = new WeakMap<Expr, boolean>();
  const isAffine = (e: Expr) => {
    let a = affineIndex.get(e);
    if (a === undefined) affineIndex.set(e, (a = affineOf(e, loopVars) !== undefined));
    return a;
  };
  const waveGroups = occ.groupsPerCu * dev.computeUnits;
  let cycles = 0;

  for (let first = 0; first < nGroups; first += waveGroups) {
    const groups = Math.min(waveGroups, nGroups - first);
    const lanes = groups * groupSize;
    const nWarps = groups * warpsPerGroup;
    counts.waves++;
    // Per-lane ids, and each warp's compute unit.
    const ids = { gid0: new Float64Array(lanes), gid1: new Float64Array(lanes), lid0: new Float64Array(lanes), lid1: new Float64Array(lanes), grp0: new Float64Array(lanes), grp1: new Float64Array(lanes) };
    const warpOf = new Int32Array(lanes);
    const groupOf = new Int32Array(lanes);
    for (let g = 0; g < groups; g++) {
      const gi = first + g;
      const gx = gi % n0;
      const gy = Math.floor(gi / n0);
      for (let li = 0; li < groupSize; li++) {
        const lane = g * groupSize + li;
        const x = li % l0;
        const y = Math.floor(li / l0);
        ids.lid0[lane] = x;
        ids.lid1[lane] = y;
        ids.grp0[lane] = gx;
        ids.grp1[lane] = gy;
        ids.gid0[lane] = gx * l0 + x;
        ids.gid1[lane] = gy * l1 + y;
        warpOf[lane] = g * warpsPerGroup + Math.floor(li / W);
        groupOf[lane] = g;
      }
    }
    const cuOfWarp = (w: number) => Math.floor(w / warpsPerGroup) % dev.computeUnits;
    const issue = new Float64Array(dev.computeUnits);
    const localCycles = new Float64Array(dev.computeUnits);
    const l1Cycles = new Float64Array(dev.computeUnits);
    const stall = new Float64Array(dev.computeUnits);
    const resident = new Float64Array(dev.computeUnits);
    for (let w = 0; w < nWarps; w++) resident[cuOfWarp(w)]++;
    let waveTransactions = 0;
    let waveDramBytes = 0;
    const localMem = new Float64Array(Math.max(1, groups * localWords));
    // Loads of one statement are independent of each other: a warp issues them back to
    // back and waits once, for the slowest (memory-level parallelism). Statements are
    // dependent in order, so their waits add up.
    const pending = new Float64Array(nWarps);
    const settle = (m: Mask) => {
      for (let wi = 0; wi < m.warps.length; wi++) {
        const w = m.warps[wi];
        if (pending[w]) {
          stall[cuOfWarp(w)] += pending[w];
          pending[w] = 0;
        }
      }
    };
    const privates = new Map<string, Val>();
    const loops = new Map<string, number>();

    // Masks: null means every lane; otherwise 1 per active lane. Active warps are counted once per mask.
    type Mask = { bits: Uint8Array | null; warps: Int32Array };
    const allWarps = new Int32Array(nWarps).map((_, i) => i);
    const full: Mask = { bits: null, warps: allWarps };
    const issueAll = (m: Mask, n = 1) => {
      for (let i = 0; i < m.warps.length; i++) issue[cuOfWarp(m.warps[i])] += n;
      counts.warpInstructions += n * m.warps.length;
    };

    const segs = new Float64Array(W);
    const words = new Float64Array(W);
    /** Counts one global access of the warps in `m`; `index` is per lane or uniform. Returns nothing; charges latency to stall. */
    const globalAccess = (array: string, index: Val, m: Mask, store: boolean) => {
      const b0 = base.get(array)!;
      for (let wi = 0; wi < m.warps.length; wi++) {
        const w = m.warps[wi];
        const cu = cuOfWarp(w);
        let n = 0;
        if (typeof index === 'number') {
          segs[0] = Math.floor((b0 + index * elemBytes) / tx);
          n = 1;
        } else {
          const start = Math.floor(w / warpsPerGroup) * groupSize + (w % warpsPerGroup) * W;
          const end = Math.min(start + W, Math.floor(w / warpsPerGroup) * groupSize + groupSize);
          for (let lane = start; lane < end; lane++) {
            if (m.bits && !m.bits[lane]) continue;
            const s = Math.floor((b0 + index[lane] * elemBytes) / tx);
            let seen = false;
            for (let j = 0; j < n; j++)
              if (segs[j] === s) {
                seen = true;
                break;
              }
            if (!seen) segs[n++] = s;
          }
        }
        counts.globalTransactions += n;
        issue[cu] += 1;
        counts.warpInstructions++;
        let latency = 0;
        for (let j = 0; j < n; j++) {
          if (store) {
            waveTransactions++;
            if (l2) l2.access(segs[j]);
            waveDramBytes += tx;
            continue;
          }
          if (l1s) {
            l1Cycles[cu] += tx / dev.l1!.bytesPerCycle;
            if (l1s[cu].access(segs[j])) {
              counts.l1Hits++;
              latency = Math.max(latency, dev.l1!.latencyCycles);
              continue;
            }
          }
          waveTransactions++;
          const hit = l2 ? l2.access(segs[j]) : false;
          if (hit) counts.l2Hits++;
          else {
            counts.l2Misses++;
            waveDramBytes += tx;
          }
          latency = Math.max(latency, hit ? dev.l2!.latencyCycles : dev.globalLatencyCycles);
        }
        // A warp waits for its slowest transaction (one more cycle per extra one); a store does not wait.
        if (!store) pending[w] = Math.max(pending[w], latency + n - 1);
      }
    };
    /** Counts one local access; returns nothing. Words are per lane offsets in the group's local space. */
    const localAccess = (array: string, index: Val, m: Mask, store: boolean) => {
      const b0 = localBase.get(array)!;
      for (let wi = 0; wi < m.warps.length; wi++) {
        const w = m.warps[wi];
        const cu = cuOfWarp(w);
        let degree = 1;
        if (typeof index !== 'number') {
          const start = Math.floor(w / warpsPerGroup) * groupSize + (w % warpsPerGroup) * W;
          const end = Math.min(start + W, Math.floor(w / warpsPerGroup) * groupSize + groupSize);
          let n = 0;
          for (let lane = start; lane < end; lane++) if (!m.bits || m.bits[lane]) words[n++] = b0 + index[lane];
          const sorted = words.subarray(0, n).sort();
          const perBank = new Map<number, number>();
          for (let j = 0; j < n; j++) {
            if (j > 0 && sorted[j] === sorted[j - 1]) continue;
            const bank = sorted[j] % dev.localBanks;
            const c = (perBank.get(bank) ?? 0) + 1;
            perBank.set(bank, c);
            if (c > degree) degree = c;
          }
        }
        counts.localAccesses++;
        counts.bankConflictCycles += degree - 1;
        issue[cu] += 1;
        counts.warpInstructions++;
        localCycles[cu] += degree;
        if (store) stall[cu] += degree - 1;
        else pending[w] = Math.max(pending[w], dev.localLatencyCycles + degree - 1);
      }
    };

    const evalE = (e: Expr, m: Mask, address = false): Val => {
      switch (e.k) {
        case 'const':
          return e.v;
        case 'gid':
        case 'lid':
        case 'grp':
          return ids[`${e.k}${e.d}` as keyof typeof ids];
        case 'var': {
          const l = loops.get(e.name);
          if (l !== undefined) return l;
          const p = privates.get(e.name);
          if (p === undefined) throw new Error(`kernel '${k.name}' reads variable '${e.name}' before setting it`);
          return p;
        }
        case 'load': {
          const index = evalE(e.index, m, isAffine(e.index));
          const local = isLocal(e.array);
          if (local) localAccess(e.array, index, m, false);
          else {
            counts.globalLoads++;
            globalAccess(e.array, index, m, false);
          }
          const len = local ? k.arrays.find((a) => a.name === e.array)!.length : buffers.get(e.array)!.length;
          const check = (i: number) => {
            if (!(i >= 0 && i < len) || !Number.isInteger(i)) throw new Error(`kernel '${k.name}' reads ${e.array}[${i}] outside its ${len} elements`);
          };
          if (local) {
            const lb = localBase.get(e.array)!;
            const out = new Float64Array(lanes);
            for (let lane = 0; lane < lanes; lane++) {
              if (m.bits && !m.bits[lane]) continue;
              const i = typeof index === 'number' ? index : index[lane];
              check(i);
              out[lane] = localMem[groupOf[lane] * localWords + lb + i];
            }
            return out;
          }
          const buf = buffers.get(e.array)!;
          if (typeof index === 'number') {
            check(index);
            return buf[index];
          }
          const out = new Float64Array(lanes);
          for (let lane = 0; lane < lanes; lane++) {
            if (m.bits && !m.bits[lane]) continue;
            check(index[lane]);
            out[lane] = buf[index[lane]];
          }
          return out;
        }
        case 'bin': {
          const a = evalE(e.a, m, address);
          const b = evalE(e.b, m, address);
          const f = OPS[e.op];
          // Arithmetic on uniform values (constants, loop counters) runs once per warp on
          // the scalar unit (AMD) or is hoisted and strength-reduced by the compiler
          // (NVIDIA): it takes no vector issue slot.
          if (typeof a === 'number' && typeof b === 'number') return f(a, b);
          if (!address) issueAll(m);
          const out = new Float64Array(lanes);
          if (typeof a === 'number') for (let i = 0; i < lanes; i++) out[i] = f(a, (b as Float64Array)[i]);
          else if (typeof b === 'number') for (let i = 0; i < lanes; i++) out[i] = f(a[i], b);
          else for (let i = 0; i < lanes; i++) out[i] = f(a[i], b[i]);
          return out;
        }
      }
    };

    const maskOf = (cond: Val, m: Mask): Mask => {
      const bits = new Uint8Array(lanes);
      const warps: number[] = [];
      for (let lane = 0; lane < lanes; lane++) {
        if (m.bits && !m.bits[lane]) continue;
        const c = typeof cond === 'number' ? cond : cond[lane];
        if (c) {
          bits[lane] = 1;
          if (warps[warps.length - 1] !== warpOf[lane]) warps.push(warpOf[lane]);
        }
      }
      return { bits, warps: Int32Array.from(warps) };
    };

    const exec = (body: readonly Stmt[], m: Mask): void => {
      if (m.warps.length === 0) return;
      for (const s of body) {
        switch (s.k) {
          case 'store': {
            const index = evalE(s.index, m, isAffine(s.index));
            const value = evalE(s.value, m);
            const local = isLocal(s.array);
            if (local) localAccess(s.array, index, m, true);
            else {
              counts.globalStores++;
              globalAccess(s.array, index, m, true);
            }
            settle(m);
            const decl = k.arrays.find((a) => a.name === s.array);
            if (!decl) throw new Error(`kernel '${k.name}' stores into undeclared array '${s.array}'`);
            const len = decl.length;
            const lb = local ? localBase.get(s.array)! : 0;
            const buf = local ? undefined : buffers.get(s.array)!;
            for (let lane = 0; lane < lanes; lane++) {
              if (m.bits && !m.bits[lane]) continue;
              const i = typeof index === 'number' ? index : index[lane];
              if (!(i >= 0 && i < len) || !Number.isInteger(i)) throw new Error(`kernel '${k.name}' writes ${s.array}[${i}] outside its ${len} elements`);
              const x = typeof value === 'number' ? value : value[lane];
              if (buf) buf[i] = x;
              else localMem[groupOf[lane] * localWords + lb + i] = decl.type === 'f32' ? Math.fround(x) : x | 0;
            }
            break;
          }
          case 'set': {
            const value = evalE(s.value, m);
            settle(m);
            const old = privates.get(s.name);
            if (!m.bits) privates.set(s.name, typeof value === 'number' ? value : value.slice());
            else {
              const out = old === undefined ? new Float64Array(lanes) : typeof old === 'number' ? new Float64Array(lanes).fill(old) : old;
              for (let lane = 0; lane < lanes; lane++) if (m.bits[lane]) out[lane] = typeof value === 'number' ? value : value[lane];
              privates.set(s.name, out);
            }
            // No issue slot: the expression's last operation writes the variable's register.
            break;
          }
          case 'for':
            for (let i = s.from; i < s.to; i += s.step) {
              loops.set(s.v, i);
              exec(s.body, m);
              // The branch back (the counter is uniform: see 'bin').
              issueAll(m, 1);
            }
            loops.delete(s.v);
            break;
          case 'if': {
            const cond = evalE(s.cond, m);
            settle(m);
            issueAll(m);
            exec(s.then, maskOf(cond, m));
            break;
          }
          case 'barrier':
            for (let wi = 0; wi < m.warps.length; wi++) stall[cuOfWarp(m.warps[wi])] += dev.barrierCycles;
            counts.barriers += m.warps.length;
            issueAll(m);
            break;
          case 'reduce':
            throw new Error(`kernel '${k.name}' still has a reduction into '${s.target}': a JIT pass lowers reductions before execution`);
        }
      }
    };
    exec(k.body, full);

    // The wave's time: its slowest compute unit, or the memory system's bandwidth.
    let cuCycles = 0;
    let cuBound = 'issue';
    for (let cu = 0; cu < dev.computeUnits; cu++) {
      if (!resident[cu]) continue;
      const t = [issue[cu] / dev.schedulersPerCu, localCycles[cu], stall[cu] / resident[cu], l1Cycles[cu]];
      const best = Math.max(...t);
      if (best > cuCycles) {
        cuCycles = best;
        cuBound = ['issue', 'local', 'latency', 'l1'][t.indexOf(best)];
      }
    }
    const perCycle = (bitsPerSecond: number) => bitsPerSecond / 8 / dev.clock;
    const l2Cycles = dev.l2 ? (waveTransactions * tx) / perCycle(dev.l2.bandwidth) : 0;
    const dramCycles = waveDramBytes / perCycle(dev.globalBandwidth);
    const waveCycles = Math.max(cuCycles, l2Cycles, dramCycles);
    const bound = waveCycles === cuCycles ? cuBound : waveCycles === l2Cycles ? 'l2' : 'dram';
    boundCount.set(bound, (boundCount.get(bound) ?? 0) + 1);
    counts.dramBytes += waveDramBytes;
    cycles += waveCycles;
  }

  // Reductions finished on the host: combine the per-work-group partials.
  for (const f of k.hostFinish ?? []) {
    const p = buffers.get(f.partials)!;
    let acc = f.op === 'add' ? 0 : f.op === 'max' ? -Infinity : Infinity;
    for (let i = 0; i < p.length; i++) acc = f.op === 'add' ? acc + p[i] : f.op === 'max' ? Math.max(acc, p[i]) : Math.min(acc, p[i]);
    buffers.get(f.target)![0] = acc;
  }

  const copy = (bytes: number) => (bytes > 0 ? dev.transferLatency + (bytes / (dev.transferBandwidth / 8)) * 1e9 : 0);
  let bound = 'issue';
  let most = -1;
  for (const [b, n] of boundCount) if (n > most) [bound, most] = [b, n];
  return {
    counts,
    occupancy: occ,
    kernelNs: dev.launchOverhead + (cycles / dev.clock) * 1e9,
    executeNs: (cycles / dev.clock) * 1e9,
    transferInNs: copy(bytesIn),
    transferOutNs: copy(bytesOut),
    bound,
    buffers,
  };
}

const OPS: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  idiv: (a, b) => Math.trunc(a / b),
  mod: (a, b) => a % b,
  min: (a, b) => Math.min(a, b),
  max: (a, b) => Math.max(a, b),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  eq: (a, b) => (a === b ? 1 : 0),
  and: (a, b) => (a && b ? 1 : 0),
};
