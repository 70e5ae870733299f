// The TornadoVM reproduction table (`npm run repro:tornado`): every benchmark on both
// GPU profiles, compiled by gpu.jit.baseline (global memory only) and by
// gpu.jit.local-memory (the paper's technique), beside the hand-tuned kernel. It
// prints the local-memory speedup and the JIT's fraction of hand-tuned performance
// next to the paper's figures (Papadimitriou et al., abstract: up to 2.5× and up to
// 94%), whether every output matched the CPU reference, and then the trends: reuse
// (stencil radius), local-memory capacity (occupancy) and barrier cost. Kernel times
// include the launch overhead; copies are shown apart. Only the paper column is quoted.

import { BENCHMARK_NAMES } from '../../plugins/workload/gpu/benchmarks';
import { measureRow, PARTITION_CUS, PROFILES, type Row } from './tornado-lib';

const row = (...cells: string[]) => console.log(cells.map((c, i) => c.padEnd([12, 14, 11, 11, 11, 10, 10, 9, 0][i] ?? 0)).join(' '));
const us = (ns: number) => `${(ns / 1000).toFixed(1)} µs`;

async function main(): Promise<void> {
  console.log('== TornadoVM: JIT use of GPU local memory (Papadimitriou et al.) ==');
  console.log(`on a ${PARTITION_CUS}-compute-unit partition of each GPU with its share of L2 and memory bandwidth (see tools/repro/tornado-lib.ts)`);
  console.log('kernel times in µs, launch included; speedup = global-only / local-memory execution time (launch excluded, as OpenCL profiling measures it); of hand = hand-tuned / local-memory execution time\n');
  row('benchmark', 'gpu', 'global-only', 'local-mem', 'hand-tuned', 'speedup', 'of hand', 'outputs', 'what the JIT did');
  const rows: Row[] = [];
  for (const b of BENCHMARK_NAMES) {
    for (const p of PROFILES) {
      const r = await measureRow(b, p);
      rows.push(r);
      const ok = r.baseline.mismatches + r.local.mismatches + (r.hand?.mismatches ?? 0) === 0 ? 'match' : 'DIFFER';
      row(b, p.replace('x86-64-', ''), us(r.baseline.kernelNs), us(r.local.kernelNs), r.hand ? us(r.hand.kernelNs) : 'n/a', `${r.speedup.toFixed(2)}×`, `${(r.ofHand * 100).toFixed(0)}%`, ok, (r.local.compiled.notes ?? []).join('; ') || 'nothing (no reuse found)');
    }
  }
  const best = rows.reduce((a, r) => (r.speedup > a.speedup ? r : a));
  const staged = rows.filter((r) => r.local.compiled.notes?.some((n) => !n.includes('global memory')));
  const bestOfHand = staged.reduce((a, r) => (r.ofHand > a.ofHand ? r : a));
  console.log('\nquantity                                              model                          paper');
  console.log(`${'largest local-memory speedup'.padEnd(54)}${`${best.speedup.toFixed(2)}× (${best.benchmark}, ${best.profile.replace('x86-64-', '')})`.padEnd(31)}up to 2.5×`);
  console.log(`${'JIT fraction of hand-tuned, kernels it rewrote'.padEnd(54)}${`${(Math.min(...staged.map((r) => r.ofHand)) * 100).toFixed(0)}% to ${(bestOfHand.ofHand * 100).toFixed(0)}%`.padEnd(31)}up to 94%`);
  console.log(`${'outputs equal to the CPU reference'.padEnd(54)}${`${rows.every((r) => r.baseline.mismatches + r.local.mismatches + (r.hand?.mismatches ?? 0) === 0) ? 'all' : 'NOT ALL'} (${rows.length * 3} kernels)`.padEnd(31)}—`);

  console.log('\n== trend: the gain grows with reuse (stencil radius r, (2r+1)² taps) ==');
  for (const p of PROFILES) {
    const cells: string[] = [];
    for (const radius of [0, 1, 2, 3]) {
      const r = await measureRow('stencil', p, { radius });
      cells.push(`r=${radius} ${r.speedup.toFixed(2)}× (of hand ${(r.ofHand * 100).toFixed(0)}%)`);
    }
    console.log(`${p.padEnd(14)} ${cells.join('   ')}`);
  }
  // Volta's L1 (28 cycles, beside 19 for shared memory) already serves the neighbours'
  // reuse; without an L1, as GPUs that cached global loads only in L2 had, it falls to
  // local memory.
  const noL1: string[] = [];
  for (const radius of [0, 1, 2, 3]) noL1.push(`r=${radius} ${(await measureRow('stencil', PROFILES[0], { radius, gpu: { l1: undefined }, hand: false })).speedup.toFixed(2)}×`);
  console.log(`${'v100, no L1'.padEnd(14)} ${noL1.join('   ')}`);

  // How many work-groups are resident at once (occupancy) decides how much latency is hidden.
  console.log('\n== trend: local-memory capacity bounds it (matmul; less local memory per CU, fewer resident work-groups) ==');
  for (const p of PROFILES) {
    const part = {};
    const full = await measureRow('matmul', p, { gpu: part });
    const tile = full.local.occupancy.localBytes;
    const cells = [`default: ${full.local.occupancy.groupsPerCu} groups/CU (${full.local.occupancy.limit}) ${full.speedup.toFixed(2)}×`];
    for (const kib of [Math.ceil((2 * tile) / 1024), Math.ceil(tile / 1024), Math.floor(tile / 1024) - 1]) {
      const r = await measureRow('matmul', p, { gpu: { ...part, localMemoryPerCu: kib * 1024, localMemoryPerGroup: kib * 1024 } });
      cells.push(`${kib} KiB: ${r.local.occupancy.groupsPerCu} groups/CU (${r.local.occupancy.limit}) ${r.speedup.toFixed(2)}×`);
    }
    console.log(`${p.padEnd(14)} ${cells.join('   ')}`);
  }

  console.log('\n== trend: barriers cost the tiles something (matmul, barrier cost in cycles) ==');
  for (const p of PROFILES) {
    const cells: string[] = [];
    for (const barrierCycles of [0, 20, 200, 2000]) cells.push(`${barrierCycles}: ${(await measureRow('matmul', p, { gpu: { barrierCycles } })).speedup.toFixed(2)}×`);
    console.log(`${p.padEnd(14)} ${cells.join('   ')}`);
  }

  console.log('\n== copies (not in kernel times) ==');
  for (const r of rows.filter((x) => x.profile === PROFILES[0])) console.log(`${r.benchmark.padEnd(12)} in ${us(r.local.transferInNs)}, out ${us(r.local.transferOutNs)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
