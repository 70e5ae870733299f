// The SIMD register-mapping reproduction (`npm run repro:simd`): every guest
// benchmark runs once under dbt.instrew translating basic blocks, with the host code
// model on; the run is then lowered under each register-mapping strategy
// (regmap.memory = QEMU, regmap.gpr, regmap.simd = Wu et al.) for each host profile,
// and the table gives modelled host instructions and cycles per guest instruction,
// the speedup of regmap.simd over regmap.memory (the paper: 2.2× on average, AArch64
// guests on x86-64) and how it moves as the host's integer registers shrink
// (aarch64 31 → x86-64 16 → starved 8). Under regmap.memory and regmap.gpr every guest
// FP operation is a softfloat helper call, as in QEMU; regmap.simd runs them as host
// FP instructions where RISC-V's semantics allow. The geometric means are also given
// apart for the integer and the FP benchmarks. Only the paper's figure is quoted.
//
//   npm run repro:simd [-- --case small|bench] [--only crc32,sort]

import { evaluateGrid, modelledRun, PROFILES, STRATEGIES } from '../node/hostcode';
import { guestPrograms } from '../node/guests';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const geomean = (xs: number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
const pad = (s: string, n: number) => s.padEnd(n);

async function main(): Promise<void> {
  const caseId = arg('case', 'small');
  const only = arg('only', '').split(',').filter(Boolean);
  const programs = guestPrograms().filter((p) => p.kind === 'benchmark' && p.name !== 'cold-code' && (!only.length || only.includes(p.name)));
  const speedups = new Map<string, number[]>(PROFILES.map((h) => [h, []]));
  // The same speedups, apart for benchmarks that run FP operations and those that do not.
  const fpSpeedups = new Map<string, number[]>(PROFILES.map((h) => [h, []]));
  const intSpeedups = new Map<string, number[]>(PROFILES.map((h) => [h, []]));
  const gprSpeedups = new Map<string, number[]>(PROFILES.map((h) => [h, []]));
  // Ratios of host instructions executed (regmap.memory's over the strategy's): the paper's other measure.
  const instrRatios = new Map<string, number[]>(PROFILES.map((h) => [h, []]));
  console.log(`host code model: modelled host instructions (cycles) per guest instruction, case ${caseId}`);
  console.log(`${pad('benchmark', 14)}${pad('host', 15)}${STRATEGIES.map((s) => pad(s.replace('regmap.', ''), 15)).join('')}${pad('simd/memory', 13)}${pad('gpr/memory', 12)}packed  spills(mem)`);
  for (const p of programs) {
    const run = await modelledRun(p.name, caseId);
    const grid = await evaluateGrid(run);
    for (const h of PROFILES) {
      const m = grid['regmap.memory'][h];
      const s = grid['regmap.simd'][h];
      const g = grid['regmap.gpr'][h];
      const sp = m.cycles / s.cycles;
      const gp = m.cycles / g.cycles;
      speedups.get(h)!.push(sp);
      (m.counts.fpHelper + m.counts.softfloat > 0 ? fpSpeedups : intSpeedups).get(h)!.push(sp);
      instrRatios.get(h)!.push(m.hostInstructions / s.hostInstructions);
      gprSpeedups.get(h)!.push(gp);
      const cell = (r: typeof m) => pad(`${r.hostPerGuest.toFixed(2)} (${r.cyclesPerGuest.toFixed(2)})`, 15);
      const packed = s.guestInstructions ? `${((100 * s.packedOps) / s.guestInstructions).toFixed(1)}%` : '-';
      const spills = m.guestInstructions ? `${((100 * m.spills) / m.guestInstructions).toFixed(1)}%` : '-';
      console.log(`${pad(p.name, 14)}${pad(h, 15)}${STRATEGIES.map((x) => cell(grid[x][h])).join('')}${pad(`${sp.toFixed(2)}×`, 13)}${pad(`${gp.toFixed(2)}×`, 12)}${pad(packed, 8)}${spills}`);
    }
  }
  console.log('');
  console.log('speedup in modelled cycles over regmap.memory (QEMU), and host instructions of regmap.memory per host instruction of regmap.simd, geometric means over the benchmarks:');
  console.log(`${pad('host', 15)}${pad('integer regs', 14)}${pad('regmap.simd', 13)}${pad('(integer)', 11)}${pad('(FP)', 10)}${pad('regmap.gpr', 12)}${pad('simd (instr.)', 15)}paper (simd, AArch64 guest on x86-64)`);
  const gprs: Record<string, number> = { aarch64: 31, 'x86-64-avx512': 16, 'x86-64': 16, starved: 8 };
  const gm = (xs: number[]) => (xs.length ? `${geomean(xs).toFixed(3)}×` : '-');
  for (const h of PROFILES) {
    console.log(`${pad(h, 15)}${pad(String(gprs[h]), 14)}${pad(gm(speedups.get(h)!), 13)}${pad(gm(intSpeedups.get(h)!), 11)}${pad(gm(fpSpeedups.get(h)!), 10)}${pad(gm(gprSpeedups.get(h)!), 12)}${pad(gm(instrRatios.get(h)!), 15)}${h === 'x86-64' ? '2.2× (speedup)' : ''}`);
  }
  const trend = geomean(speedups.get('starved')!) > geomean(speedups.get('x86-64')!) && geomean(speedups.get('x86-64')!) >= geomean(speedups.get('aarch64')!);
  console.log(`trend (simd's gain grows as integer registers shrink: starved > x86-64 ≥ aarch64): ${trend ? 'holds' : 'does NOT hold'}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
