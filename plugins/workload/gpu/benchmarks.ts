// The GPU benchmarks of the TornadoVM reproduction, each written three ways in the
// kernel builder: the data-parallel kernel a programmer writes (what the JIT
// compiles), a hand-tuned OpenCL-style kernel with explicit local memory and
// barriers (the upper bound the JIT is judged against), and a plain CPU reference.
// Inputs are multiples of 1/4 in [-1, 1], so every sum here is exact in f32 and the
// GPU's results must equal the reference bit for bit, whatever the summation order.
//
//   reduction  sum of n values (@Reduce)              — tree reductions
//   matmul     n×n matrix product                      — rows and columns reused n times
//   transpose  n×n transpose                           — no reuse; a tile fixes coalescing
//   stencil    n×n convolution with a (2r+1)² filter   — reuse grows with r; none at r = 0
//   saxpy      y = a·x + y over n values               — no reuse at all

import { KernelBuilder, gpuKernel, type GpuBuffer, type Kernel } from 'virtlab';

const { add, mul, lt } = gpuKernel;

export interface Benchmark {
  readonly name: string;
  readonly description: string;
  /** The kernel as a programmer writes it, for the JIT. */
  readonly kernel: Kernel;
  /** The hand-tuned reference. */
  readonly handTuned: Kernel;
  readonly inputs: ReadonlyMap<string, GpuBuffer>;
  /** Expected contents of the output arrays. */
  readonly expected: ReadonlyMap<string, Float32Array>;
}

export type BenchmarkName = 'reduction' | 'matmul' | 'transpose' | 'stencil' | 'saxpy';
export const BENCHMARK_NAMES: readonly BenchmarkName[] = ['reduction', 'matmul', 'transpose', 'stencil', 'saxpy'];

/** Deterministic inputs: multiples of 1/4 in [-1, 1] from a fixed linear congruential sequence. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s >>> 24) % 9) / 4 - 1;
  }
  return out;
}

/** Builds a benchmark; `size` is n (elements, or matrix side), `radius` the stencil's. */
export function buildBenchmark(name: BenchmarkName, size: number, radius = 1): Benchmark {
  const f = BUILDERS[name];
  if (!f) throw new Error(`unknown GPU benchmark '${name}'; use one of ${BENCHMARK_NAMES.join(', ')}`);
  return f(size, radius);
}

const BUILDERS: Record<BenchmarkName, (n: number, r: number) => Benchmark> = {
  reduction(n) {
    const x = values(n, 1);
    const b = new KernelBuilder('reduction', [n]);
    const xa = b.input('x', 'f32', n);
    const s = b.output('sum', 'f32', 1);
    b.reduce('add', s, xa.at(b.gid(0)));
    // Hand-tuned: each work-item first adds 4 values in one expression (coalesced loads
    // strided by a quarter of the array, issued together), then a 256-wide tree in
    // local memory.
    const per = 4;
    const wg = 256;
    const items = n / per;
    if (!Number.isInteger(items) || items % wg) throw new Error(`reduction: n = ${n} must be a multiple of ${per * wg}`);
    const h = new KernelBuilder('reduction-hand', [items]).workGroup(wg);
    const hx = h.input('x', 'f32', n);
    const hs = h.output('sum', 'f32', 1);
    const part = h.temp('partials', 'f32', items / wg);
    const scratch = h.localArray('scratch', 'f32', wg);
    let sum4 = hx.at(h.gid(0));
    for (let j = 1; j < per; j++) sum4 = add(sum4, hx.at(add(h.gid(0), j * items)));
    h.store(scratch, h.lid(0), sum4);
    h.barrier();
    for (let half = wg / 2; half >= 1; half /= 2) {
      h.if(lt(h.lid(0), half), () => h.store(scratch, h.lid(0), add(scratch.at(h.lid(0)), scratch.at(add(h.lid(0), half)))));
      h.barrier();
    }
    h.if(gpuKernel.eq(h.lid(0), 0), () => h.store(part, h.grp(0), scratch.at(0)));
    h.hostFinish('add', part, hs);
    let sum = 0;
    for (const v of x) sum += v;
    return { name: 'reduction', description: `sum of ${n} values`, kernel: b.build(), handTuned: h.build(), inputs: new Map([['x', x]]), expected: new Map([['sum', Float32Array.of(sum)]]) };
  },

  matmul(n) {
    const A = values(n * n, 2);
    const B = values(n * n, 3);
    const b = new KernelBuilder('matmul', [n, n]);
    const a = b.input('A', 'f32', n * n);
    const bb = b.input('B', 'f32', n * n);
    const c = b.output('C', 'f32', n * n);
    const i = b.gid(1);
    const j = b.gid(0);
    const acc = b.let('acc', 0);
    b.for('k', 0, n, (k) => b.set(acc, add(acc.e, mul(a.at(add(mul(i, n), k)), bb.at(add(mul(k, n), j))))));
    b.store(c, add(mul(i, n), j), acc.e);
    // Hand-tuned: 16×16 tiles of A and B in local memory (B's tile padded against bank conflicts).
    const T = 16;
    if (n % T) throw new Error(`matmul: n = ${n} must be a multiple of ${T}`);
    const h = new KernelBuilder('matmul-hand', [n, n]).workGroup(T, T);
    const ha = h.input('A', 'f32', n * n);
    const hb = h.input('B', 'f32', n * n);
    const hc = h.output('C', 'f32', n * n);
    const ta = h.localArray('Atile', 'f32', T * T);
    const tb = h.localArray('Btile', 'f32', T * (T + 1));
    const hacc = h.let('acc', 0);
    const row = h.gid(1);
    const col = h.gid(0);
    h.for('t', 0, n / T, (t) => {
      h.store(ta, add(mul(h.lid(1), T), h.lid(0)), ha.at(add(mul(row, n), add(mul(t, T), h.lid(0)))));
      h.store(tb, add(mul(h.lid(1), T + 1), h.lid(0)), hb.at(add(mul(add(mul(t, T), h.lid(1)), n), col)));
      h.barrier();
      h.for('kk', 0, T, (kk) => h.set(hacc, add(hacc.e, mul(ta.at(add(mul(h.lid(1), T), kk)), tb.at(add(mul(kk, T + 1), h.lid(0)))))));
      h.barrier();
    });
    h.store(hc, add(mul(row, n), col), hacc.e);
    const C = new Float32Array(n * n);
    for (let r = 0; r < n; r++)
      for (let q = 0; q < n; q++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += A[r * n + k] * B[k * n + q];
        C[r * n + q] = s;
      }
    return { name: 'matmul', description: `${n}×${n} matrix product`, kernel: b.build(), handTuned: h.build(), inputs: new Map([['A', A], ['B', B]]), expected: new Map([['C', C]]) };
  },

  transpose(n) {
    const X = values(n * n, 4);
    const b = new KernelBuilder('transpose', [n, n]);
    const xin = b.input('in', 'f32', n * n);
    const xout = b.output('out', 'f32', n * n);
    b.store(xout, add(mul(b.gid(0), n), b.gid(1)), xin.at(add(mul(b.gid(1), n), b.gid(0))));
    // Hand-tuned: a padded 16×17 tile turns the strided writes into coalesced ones.
    const T = 16;
    if (n % T) throw new Error(`transpose: n = ${n} must be a multiple of ${T}`);
    const h = new KernelBuilder('transpose-hand', [n, n]).workGroup(T, T);
    const hin = h.input('in', 'f32', n * n);
    const hout = h.output('out', 'f32', n * n);
    const tile = h.localArray('tile', 'f32', T * (T + 1));
    h.store(tile, add(mul(h.lid(1), T + 1), h.lid(0)), hin.at(add(mul(h.gid(1), n), h.gid(0))));
    h.barrier();
    h.store(hout, add(mul(add(mul(h.grp(0), T), h.lid(1)), n), add(mul(h.grp(1), T), h.lid(0))), tile.at(add(mul(h.lid(0), T + 1), h.lid(1))));
    const out = new Float32Array(n * n);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) out[x * n + y] = X[y * n + x];
    return { name: 'transpose', description: `${n}×${n} transpose`, kernel: b.build(), handTuned: h.build(), inputs: new Map([['in', X]]), expected: new Map([['out', out]]) };
  },

  stencil(n, r) {
    const K = 2 * r + 1;
    const P = n + 2 * r;
    const X = values(P * P, 5);
    const Wt = values(K * K, 6);
    const b = new KernelBuilder('stencil', [n, n]);
    const xin = b.input('in', 'f32', P * P);
    const w = b.input('w', 'f32', K * K);
    const xout = b.output('out', 'f32', n * n);
    const acc = b.let('acc', 0);
    b.for('dy', 0, K, (dy) =>
      b.for('dx', 0, K, (dx) => b.set(acc, add(acc.e, mul(w.at(add(mul(dy, K), dx)), xin.at(add(mul(add(b.gid(1), dy), P), add(b.gid(0), dx))))))),
    );
    b.store(xout, add(mul(b.gid(1), n), b.gid(0)), acc.e);
    // Hand-tuned: 16×16 work-groups load their block with its halo, and the filter, once;
    // then every tap reads local memory.
    const T = 16;
    if (n % T) throw new Error(`stencil: n = ${n} must be a multiple of ${T}`);
    const E = T + 2 * r;
    const h = new KernelBuilder('stencil-hand', [n, n]).workGroup(T, T);
    const hin = h.input('in', 'f32', P * P);
    const hw = h.input('w', 'f32', K * K);
    const hout = h.output('out', 'f32', n * n);
    const tile = h.localArray('tile', 'f32', E * E);
    const wl = h.localArray('wl', 'f32', K * K);
    const lin = add(mul(h.lid(1), T), h.lid(0));
    // The filter, read by every work-item, goes to local memory too.
    h.for('u', 0, Math.ceil((K * K) / (T * T)), (u) => {
      const e = add(mul(u, T * T), lin);
      h.if(lt(e, K * K), () => h.store(wl, e, hw.at(e)));
    });
    h.for('t', 0, Math.ceil((E * E) / (T * T)), (t) => {
      const e = add(mul(t, T * T), lin);
      h.if(lt(e, E * E), () => h.store(tile, e, hin.at(add(add(mul(add(mul(h.grp(1), T), gpuKernel.idiv(e, E)), P), mul(h.grp(0), T)), gpuKernel.mod(e, E)))));
    });
    h.barrier();
    const hacc = h.let('acc', 0);
    h.for('dy', 0, K, (dy) => h.for('dx', 0, K, (dx) => h.set(hacc, add(hacc.e, mul(wl.at(add(mul(dy, K), dx)), tile.at(add(mul(add(h.lid(1), dy), E), add(h.lid(0), dx))))))));
    h.store(hout, add(mul(h.gid(1), n), h.gid(0)), hacc.e);
    const out = new Float32Array(n * n);
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++) {
        let s = 0;
        for (let dy = 0; dy < K; dy++) for (let dx = 0; dx < K; dx++) s += Wt[dy * K + dx] * X[(y + dy) * P + x + dx];
        out[y * n + x] = s;
      }
    return { name: 'stencil', description: `${n}×${n} convolution, ${K}×${K} filter`, kernel: b.build(), handTuned: h.build(), inputs: new Map([['in', X], ['w', Wt]]), expected: new Map([['out', out]]) };
  },

  saxpy(n) {
    const X = values(n, 7);
    const Y = values(n, 8);
    const make = (name: string, hand: boolean) => {
      const b = new KernelBuilder(name, [n]);
      if (hand) b.workGroup(Math.min(256, n));
      const x = b.input('x', 'f32', n);
      const y = b.inout('y', 'f32', n);
      b.store(y, b.gid(0), add(mul(2, x.at(b.gid(0))), y.at(b.gid(0))));
      return b.build();
    };
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = 2 * X[i] + Y[i];
    return { name: 'saxpy', description: `y = 2x + y over ${n} values`, kernel: make('saxpy', false), handTuned: make('saxpy-hand', true), inputs: new Map([['x', X], ['y', Y]]), expected: new Map([['y', out]]) };
  },
};
