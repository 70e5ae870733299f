// Translator benchmark (`npm run bench:dbt`): for every guest benchmark, the wall
// time — translation included — of the interpreter, the block translator and the
// optimizing translator (also translating every region eagerly on first execution,
// as Instrew does, and handing its modules to binaryen, as Instrew hands its IR to
// LLVM), each measured in a fresh process (best of `--runs`, default 3), and of
// `qemu-riscv64` in the same run when it is installed.
// Prints the table, the ratios and the targets. Output is checked against the
// recording, so a fast wrong engine cannot win.
//
//   npm run bench:dbt [-- --runs 3] [--case bench|small] [--only crc32,sort]

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../node/catalog';
import { GUESTS_DIR, guestPrograms } from '../node/guests';

interface Measure {
  wallMs: number;
  instructions: number;
  translateMs: number;
  ok: boolean;
}

const ENGINES: Array<{ label: string; engine: string; options: string[] }> = [
  { label: 'interpreter', engine: 'interpreter', options: [] },
  { label: 'block-translator', engine: 'block-translator', options: [] },
  { label: 'instrew', engine: 'instrew', options: [] },
  { label: 'instrew eager', engine: 'instrew', options: ['hotThreshold=0'] },
  { label: 'instrew binaryen', engine: 'instrew', options: ['binaryen=true'] },
];
const COMPUTE = new Set(['crc32', 'sort', 'matmul-int', 'matmul-double', 'nbody', 'bytecode']);
const FP = new Set(['matmul-double', 'nbody']);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function measure(engine: string, program: string, caseId: string, options: string[]): Measure {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'), path.join(REPO_ROOT, 'tools/bench/dbt-run.ts'), engine, program, caseId, ...options], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${engine} ${program}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Measure;
}

function qemu(program: string, args: string[]): number | undefined {
  const probe = spawnSync('qemu-riscv64', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return undefined;
  const t0 = performance.now();
  const r = spawnSync('qemu-riscv64', [path.join(GUESTS_DIR, 'bin', `${program}.elf`), ...args], { encoding: 'utf8', env: {} });
  return r.status === null ? undefined : performance.now() - t0;
}

const geomean = (xs: number[]) => (xs.length ? Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length) : NaN);

function main(): void {
  const runs = Number(arg('runs', '3'));
  const caseId = arg('case', 'bench');
  const only = arg('only', '').split(',').filter(Boolean);
  const rows: string[][] = [];
  const times = new Map<string, Map<string, number>>();
  const measures = new Map<string, Map<string, Measure>>();
  const put = (label: string, program: string, ms: number) => {
    if (!times.has(label)) times.set(label, new Map());
    times.get(label)!.set(program, ms);
  };
  let haveQemu = true;
  for (const p of guestPrograms().filter((x) => x.kind === 'benchmark' && (!only.length || only.includes(x.name)))) {
    const c = p.cases.find((x) => x.id === caseId);
    if (!c) continue;
    let instructions = 0;
    for (const e of ENGINES) {
      // The interpreter is measured once: its time hardly varies and is long.
      const n = e.engine === 'interpreter' ? 1 : runs;
      let best: Measure | undefined;
      for (let i = 0; i < n; i++) {
        const m = measure(e.engine, p.name, c.id, e.options);
        if (!best || m.wallMs < best.wallMs) best = m;
      }
      instructions = best!.instructions;
      put(e.label, p.name, best!.wallMs);
      if (!measures.has(e.label)) measures.set(e.label, new Map());
      measures.get(e.label)!.set(p.name, best!);
      rows.push([p.name, e.label, `${(best!.instructions / 1e6).toFixed(1)} M`, (best!.wallMs / 1000).toFixed(3), (best!.translateMs / 1000).toFixed(3), (best!.instructions / 1e3 / best!.wallMs).toFixed(0), best!.ok ? 'ok' : 'WRONG']);
      process.stderr.write('.');
    }
    let q: number | undefined;
    for (let i = 0; i < runs; i++) {
      const t = qemu(p.name, c.args ?? []);
      if (t === undefined) break;
      q = q === undefined ? t : Math.min(q, t);
    }
    if (q === undefined) haveQemu = false;
    else {
      put('qemu-riscv64', p.name, q);
      rows.push([p.name, 'qemu-riscv64', `${(instructions / 1e6).toFixed(1)} M`, (q / 1000).toFixed(3), '', (instructions / 1e3 / q).toFixed(0), '']);
    }
  }
  process.stderr.write('\n');
  const head = ['program', 'engine', 'instructions', 'seconds', 'translate s', 'MIPS', 'output'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  console.log(head.map((h, i) => h.padEnd(widths[i])).join('  '));
  for (const r of rows) console.log(r.map((x, i) => (i >= 2 && i <= 5 ? x.padStart(widths[i]) : x.padEnd(widths[i]))).join('  '));
  console.log('');
  const ratio = (a: string, b: string, set?: Set<string>) => {
    const ta = times.get(a);
    const tb = times.get(b);
    if (!ta || !tb) return NaN;
    return geomean([...ta.keys()].filter((k) => tb.has(k) && (!set || set.has(k))).map((k) => tb.get(k)! / ta.get(k)!));
  };
  const line = (text: string, value: number, target: string) => console.log(`${text.padEnd(62)} ${value.toFixed(2)}×   (${target})`);
  line('block-translator speed-up over the interpreter, compute-bound (geomean)', ratio('block-translator', 'interpreter', COMPUTE), 'target ≥ 5×');
  line('instrew speed-up over block-translator, compute-bound (geomean)', ratio('instrew', 'block-translator', COMPUTE), 'target ≥ 2×');
  line('instrew eager speed-up over block-translator, compute-bound', ratio('instrew eager', 'block-translator', COMPUTE), 'Instrew translating every region at once');
  const bin = (what: 'wallMs' | 'translateMs') => {
    const a = measures.get('instrew');
    const b = measures.get('instrew binaryen');
    if (!a || !b) return NaN;
    return geomean([...a.keys()].filter((k) => b.has(k) && COMPUTE.has(k)).map((k) => (what === 'wallMs' ? b.get(k)!.wallMs - b.get(k)!.translateMs : b.get(k)!.translateMs) / Math.max(1e-3, what === 'wallMs' ? a.get(k)!.wallMs - a.get(k)!.translateMs : a.get(k)!.translateMs)));
  };
  console.log(`binaryen (compute-bound, geomean): translation time ×${bin('translateMs').toFixed(1)}, the rest of the run ×${bin('wallMs').toFixed(2)}`);
  if (times.get('instrew')?.has('cold-code')) {
    const cold = (label: string) => times.get(label)!.get('cold-code')!;
    console.log(`translation-heavy (cold-code): instrew eager ${(cold('instrew eager') / 1000).toFixed(3)} s, block-translator ${(cold('block-translator') / 1000).toFixed(3)} s, instrew ${(cold('instrew') / 1000).toFixed(3)} s, interpreter ${(cold('interpreter') / 1000).toFixed(3)} s`);
  }
  if (haveQemu && times.has('qemu-riscv64')) {
    line('qemu-riscv64 time / instrew time (geomean; ≥ 0.5 is within 2×)', ratio('instrew', 'qemu-riscv64'), 'target ≥ 0.5');
    for (const p of FP) if (times.get('qemu-riscv64')!.has(p)) line(`qemu-riscv64 time / instrew time on ${p}`, times.get('qemu-riscv64')!.get(p)! / times.get('instrew')!.get(p)!, 'target > 1 (faster than QEMU)');
  } else console.log('qemu-riscv64 is not installed: its rows were skipped (apt-get install -y qemu-user)');
}

main();
