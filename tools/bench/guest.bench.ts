// Guest benchmarks (`npm run bench:guest`): for each benchmark program of the guest
// suite (its `bench` case), the instructions, wall time and MIPS of every installed
// execution engine, and of qemu-riscv64 in the same run when it is installed (skipped
// cleanly otherwise), with the ratios. Output is checked against the recorded output,
// so a fast wrong engine cannot win. `--case small` runs the quick cases instead.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { resolveEngine } from '../cli/exec';
import { loadCatalog } from '../node/catalog';
import { expectedOf, GUESTS_DIR, guestPrograms, runGuestCase } from '../node/guests';

// cold-code measures decoding and translation, not execution: it is reported, not averaged.
const INTEGER = new Set(['crc32', 'sort', 'matmul-int', 'bytecode']);

function geomean(xs: number[]): number {
  return xs.length ? Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length) : NaN;
}

function qemuSeconds(elf: string, args: string[]): number | undefined {
  const probe = spawnSync('qemu-riscv64', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return undefined;
  const t0 = performance.now();
  const r = spawnSync('qemu-riscv64', [elf, ...args], { encoding: 'utf8', env: {} });
  if (r.status !== 0) return undefined;
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const caseId = process.argv.includes('--case') ? process.argv[process.argv.indexOf('--case') + 1] : 'bench';
  const engines = loadCatalog().providersOf('cpu.engine');
  const rows: Array<Record<string, string>> = [];
  const mips = new Map<string, { int: number[]; all: number[] }>();
  const qemuMips: { int: number[]; all: number[] } = { int: [], all: [] };
  let qemuMissing = false;
  for (const program of guestPrograms().filter((p) => p.kind === 'benchmark')) {
    const c = program.cases.find((x) => x.id === caseId);
    if (!c) continue;
    const expected = expectedOf(program, c);
    let instructions = 0;
    for (const id of engines) {
      const engine = await resolveEngine(id);
      const run = runGuestCase(engine, program, c);
      const ok = new TextDecoder().decode(run.stdout) === new TextDecoder().decode(expected.stdout) && run.status === expected.status;
      instructions = run.instructions;
      const m = run.instructions / 1e6 / (run.wallMs / 1000);
      const acc = mips.get(id) ?? { int: [], all: [] };
      acc.all.push(m);
      if (INTEGER.has(program.name)) acc.int.push(m);
      mips.set(id, acc);
      rows.push({ program: program.name, engine: id.replace(/^dbt\./, ''), instructions: `${(run.instructions / 1e6).toFixed(1)} M`, seconds: (run.wallMs / 1000).toFixed(3), MIPS: m.toFixed(1), output: ok ? 'ok' : 'WRONG' });
    }
    const q = qemuSeconds(path.join(GUESTS_DIR, 'bin', `${program.name}.elf`), c.args ?? []);
    if (q === undefined) qemuMissing = true;
    else {
      const m = instructions / 1e6 / q;
      qemuMips.all.push(m);
      if (INTEGER.has(program.name)) qemuMips.int.push(m);
      rows.push({ program: program.name, engine: 'qemu-riscv64', instructions: `${(instructions / 1e6).toFixed(1)} M`, seconds: q.toFixed(3), MIPS: m.toFixed(1), output: '' });
    }
  }
  const cols = ['program', 'engine', 'instructions', 'seconds', 'MIPS', 'output'];
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  console.log(cols.map((c, i) => c.padEnd(widths[i])).join('  '));
  for (const r of rows) console.log(cols.map((c, i) => (i >= 2 && i <= 4 ? r[c].padStart(widths[i]) : r[c].padEnd(widths[i]))).join('  '));
  console.log('');
  for (const [id, m] of mips) {
    console.log(`${id}: geomean ${geomean(m.int).toFixed(1)} MIPS on integer benchmarks, ${geomean(m.all).toFixed(1)} MIPS on all (target: 100 MIPS on integer code)`);
    if (qemuMips.int.length) console.log(`  qemu-riscv64 / ${id}: ${(geomean(qemuMips.int) / geomean(m.int)).toFixed(1)}× on integer benchmarks, ${(geomean(qemuMips.all) / geomean(m.all)).toFixed(1)}× on all`);
  }
  if (qemuMissing) console.log('qemu-riscv64 is not installed: its column was skipped (apt-get install -y qemu-user)');
  else console.log(`qemu-riscv64: geomean ${geomean(qemuMips.int).toFixed(0)} MIPS on integer benchmarks (instruction counts from virtlab)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
