// Translator benchmark (`npm run bench:dbt`): for every guest benchmark, the wall
// time — translation included — of the interpreter, the block translator and the
// optimizing translator (also translating every region eagerly on first execution,
// as Instrew does, and handing its modules to binaryen, as Instrew hands its IR to
// LLVM; and with modules compiled on a worker thread while the interpreter runs the
// code, as virtlab exec does), each measured in a fresh process (best of `--runs`,
// default 3), and of `qemu-riscv64` in the same run when it is installed; beside
// each wall time, the best CPU time (every thread), which a loaded machine distorts
// far less. Prints the table, the ratios and the targets. Output is checked against the
// recording, so a fast wrong engine cannot win.
//
// Then, when qemu-riscv64 is installed, the comparison users see: whole `virtlab exec
// --engine instrew` processes (startup included: users pay it) against whole
// qemu-riscv64 processes on the same program and input, runs alternating between the
// two so that load on a shared machine falls on both, every output checked against
// the recording; the best of `--runs` of each, and the geomean time ratio at the
// small and at the default inputs, against the targets of 1.5 and 1.0 — and the ratio
// of CPU times beside it, which a loaded machine distorts far less. The real code
// bases (third-party programs, guests.json "vendor") have targets of their own at
// their default inputs: a geomean time ratio against qemu-riscv64 of at most 2.0,
// startup included, and instrew never slower than the block translator. virtlab runs
// there without the persistent translation cache, with a cold one (an empty folder per
// run) and a warm one (primed by an untimed run), all printed against the targets, and
// the cold runs against those without the cache (target: at most 3% slower on the real
// code bases, the cache's saving included); the engines table runs in-process, without
// the cache.
//
//   npm run bench:dbt [-- --runs 3] [--case bench|small] [--only crc32,sort] [--engines instrew,…] [--section engines|qemu|all] [--qemu-engine instrew|block-translator]

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, constants, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../node/catalog';
import { childCpuMs } from './child-cpu';
import { expectedOf, GUESTS_DIR, guestPrograms, type GuestCase, type GuestProgram } from '../node/guests';
import { watchSources } from './sources-guard';

interface Measure {
  wallMs: number;
  /** CPU time of the process's every thread (V8's compiler threads included). */
  cpuMs: number;
  instructions: number;
  translateMs: number;
  ok: boolean;
}

const ENGINES: Array<{ label: string; engine: string; options: string[] }> = [
  { label: 'interpreter', engine: 'interpreter', options: [] },
  { label: 'block-translator', engine: 'block-translator', options: [] },
  { label: 'instrew', engine: 'instrew', options: [] },
  { label: 'instrew eager', engine: 'instrew', options: ['hotThreshold=0'] },
  // Compiling on a worker thread while the interpreter runs the code (virtlab exec's default).
  { label: 'instrew eager bg', engine: 'instrew', options: ['hotThreshold=0', 'background'] },
  { label: 'instrew bg', engine: 'instrew', options: ['background'] },
  { label: 'instrew binaryen', engine: 'instrew', options: ['binaryen=true'] },
];
const COMPUTE = new Set(['crc32', 'sort', 'matmul-int', 'matmul-double', 'nbody', 'bytecode']);
const FP = new Set(['matmul-double', 'nbody']);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function measure(engine: string, program: string, caseId: string, options: string[]): Measure {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'tools/build/run.js'), path.join(REPO_ROOT, 'tools/bench/dbt-run.ts'), engine, program, caseId, ...options], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${engine} ${program}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Measure;
}

/**
 * A case's arguments for a host process, as build.py records them: mounted files by
 * their host paths, and files the guest makes under /tmp/ in a fresh folder (removed
 * by `done`). Under `virtlab exec` the same mounts are --mount flags.
 */
function hostArgs(c: GuestCase): { args: string[]; done: () => void } {
  const scratch = mkdtempSync(path.join(tmpdir(), 'virtlab-bench-'));
  const args = (c.args ?? []).map((a) => {
    const m = c.mounts?.find((x) => x.guest === a);
    return m ? path.join(GUESTS_DIR, m.host) : a.startsWith('/tmp/') ? scratch + a.slice(4) : a;
  });
  return { args, done: () => rmSync(scratch, { recursive: true, force: true }) };
}
const mountFlags = (c: GuestCase) => (c.mounts ?? []).flatMap((m) => ['--mount', `${path.join(GUESTS_DIR, m.host)}:${m.guest}`]);
/** Third-party code (guests.json "vendor"): the real code bases, with targets of their own. */
const isReal = (p: GuestProgram) => (p as GuestProgram & { vendor?: unknown }).vendor !== undefined;

function qemu(program: string, c: GuestCase): { ms: number; cpuMs: number } | undefined {
  const probe = spawnSync('qemu-riscv64', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return undefined;
  const { args, done } = hostArgs(c);
  const c0 = childCpuMs();
  const t0 = performance.now();
  const r = spawnSync('qemu-riscv64', [path.join(GUESTS_DIR, 'bin', `${program}.elf`), ...args], { encoding: 'utf8', env: {} });
  const ms = performance.now() - t0;
  const c1 = childCpuMs();
  done();
  return r.status === null ? undefined : { ms, cpuMs: c0 === undefined || c1 === undefined ? NaN : c1 - c0 };
}

const geomean = (xs: number[]) => (xs.length ? Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length) : NaN);

function main(): void {
  const sourcesMoved = watchSources();
  const runs = Number(arg('runs', '3'));
  const only = arg('only', '').split(',').filter(Boolean);
  const section = arg('section', 'all');
  if (!['engines', 'qemu', 'all'].includes(section)) throw new Error(`--section expects engines, qemu or all, got '${section}'`);
  if (section !== 'qemu') enginesTable(runs, only);
  if (section !== 'engines') againstQemu(runs, only);
  const moved = sourcesMoved();
  if (moved) console.log(`\n${moved}`);
}

/** A whole process: its wall and CPU time, and whether its output and status are the recorded ones. */
function timedProcess(cmd: string, args: string[], expected: { stdout: Uint8Array; status: number }, env: Record<string, string> = {}): { ms: number; cpuMs: number; ok: boolean } {
  const c0 = childCpuMs();
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env, maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - t0;
  const c1 = childCpuMs();
  if (r.error) throw r.error;
  const status = r.status ?? (r.signal ? 128 + constants.signals[r.signal] : -1);
  return { ms, cpuMs: c0 === undefined || c1 === undefined ? NaN : c1 - c0, ok: status === expected.status && Buffer.from(expected.stdout).equals(r.stdout) };
}

/**
 * virtlab exec --engine instrew (or --qemu-engine) against qemu-riscv64, whole
 * processes, alternating; the ratio at small and default inputs. virtlab runs twice
 * per round: with a cold translation cache (a fresh empty folder: what a first run
 * costs) and a warm one (a folder primed by one untimed run, as a user's second run).
 */
function againstQemu(runs: number, only: string[]): void {
  const probe = spawnSync('qemu-riscv64', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    console.log('\nqemu-riscv64 is not installed: no side-by-side comparison (apt-get install -y qemu-user)');
    return;
  }
  const engine = arg('qemu-engine', 'instrew');
  const version = /version ([\d.]+)/.exec(probe.stdout)?.[1] ?? '?';
  // The command as installed (package.json "bin"): the launcher that starts Node with
  // its allocator settings; `node` is this one, found first on the PATH it is given.
  const bin = path.join(REPO_ROOT, 'tools', 'cli', 'virtlab');
  const launch = { PATH: path.dirname(process.execPath) };
  // Once, untimed: brings the compiled build up to date.
  spawnSync(bin, ['--help'], { stdio: 'ignore', env: launch });
  const rows: string[][] = [];
  const modes = ['none', 'cold', 'warm'] as const;
  const ratios = new Map<string, number[]>();
  const cpuRatios = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, k: string, x: number) => {
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(x);
  };
  let wrong = 0;
  /** Real code bases at default inputs: cold / no cache, wall and CPU. */
  const coldCost: Array<[string, number, number]> = [];
  for (const caseId of ['small', 'bench']) {
    for (const p of guestPrograms().filter((x: GuestProgram) => x.kind === 'benchmark' && (!only.length || only.includes(x.name)))) {
      const c = p.cases.find((x: GuestCase) => x.id === caseId);
      if (!c) continue;
      const elf = path.join(GUESTS_DIR, 'bin', `${p.name}.elf`);
      const expected = expectedOf(p, c);
      const args = c.args ?? [];
      // The guest's environment is the recording's (empty) under both.
      const cmd = ['exec', '--engine', engine, '--clear-env', ...mountFlags(c), elf, ...args];
      const warmDir = mkdtempSync(path.join(tmpdir(), 'virtlab-bench-cache-'));
      let ok = timedProcess(bin, cmd, expected, { ...launch, VIRTLAB_CODE_CACHE: warmDir }).ok;
      const best = { none: Infinity, cold: Infinity, warm: Infinity, qemu: Infinity };
      const bestCpu = { none: Infinity, cold: Infinity, warm: Infinity, qemu: Infinity };
      for (let i = 0; i < runs; i++) {
        const n = timedProcess(bin, cmd, expected, { ...launch, VIRTLAB_CODE_CACHE: 'off' });
        const coldDir = mkdtempSync(path.join(tmpdir(), 'virtlab-bench-cache-'));
        const a = timedProcess(bin, cmd, expected, { ...launch, VIRTLAB_CODE_CACHE: coldDir });
        rmSync(coldDir, { recursive: true, force: true });
        const w = timedProcess(bin, cmd, expected, { ...launch, VIRTLAB_CODE_CACHE: warmDir });
        const host = hostArgs(c);
        const b = timedProcess('qemu-riscv64', [elf, ...host.args], expected);
        host.done();
        ok &&= n.ok && a.ok && w.ok && b.ok;
        for (const [k, r] of [['none', n], ['cold', a], ['warm', w], ['qemu', b]] as const) {
          best[k] = Math.min(best[k], r.ms);
          bestCpu[k] = Math.min(bestCpu[k], r.cpuMs);
        }
        process.stderr.write('.');
      }
      rmSync(warmDir, { recursive: true, force: true });
      if (!ok) wrong++;
      for (const m of modes) {
        push(ratios, `${m} ${caseId}`, best[m] / best.qemu);
        // A process that finished within the clock's 10 ms resolution counts as 10 ms.
        push(cpuRatios, `${m} ${caseId}`, Math.max(10, bestCpu[m]) / Math.max(10, bestCpu.qemu));
        if (isReal(p) && caseId === 'bench') push(ratios, `${m} real`, best[m] / best.qemu);
      }
      if (isReal(p) && caseId === 'bench') coldCost.push([p.name, best.cold / best.none, bestCpu.cold / bestCpu.none]);
      const sec = (ms: number) => (ms / 1000).toFixed(3);
      rows.push([caseId === 'bench' ? 'default' : 'small', p.name, sec(best.none), sec(best.cold), sec(best.warm), sec(best.qemu), (best.cold / best.qemu).toFixed(2), (best.warm / best.qemu).toFixed(2), sec(bestCpu.none), sec(bestCpu.cold), sec(bestCpu.warm), sec(bestCpu.qemu), ok ? 'ok' : 'WRONG']);
    }
  }
  process.stderr.write('\n');
  console.log(`\nvirtlab exec --engine ${engine} against qemu-riscv64 ${version}: whole processes, startup included, best of ${runs} alternating runs;`);
  console.log('none: no translation cache; cold: an empty one (a first run, saving included); warm: one primed by an untimed run of the same program and input');
  const head = ['input', 'program', 'none s', 'cold s', 'warm s', 'qemu s', 'cold ratio', 'warm ratio', 'none cpu s', 'cold cpu s', 'warm cpu s', 'qemu cpu s', 'output'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  console.log(head.map((h, i) => h.padEnd(widths[i])).join('  '));
  for (const r of rows) console.log(r.map((x, i) => (i >= 2 && i <= 11 ? x.padStart(widths[i]) : x.padEnd(widths[i]))).join('  '));
  for (const [name, wall, cpu] of coldCost) {
    console.log(`cold / no cache on ${name} (default input; saving the cache included)`.padEnd(84) + ` ${wall.toFixed(3)}   (target ≤ 1.03: ${wall <= 1.03 ? 'met' : 'MISSED'}; CPU ${cpu.toFixed(3)})`);
  }
  for (const m of modes) {
    for (const [caseId, target] of [['small', 1.5], ['bench', 1.0]] as const) {
      const xs = ratios.get(`${m} ${caseId}`);
      if (!xs?.length) continue;
      const g = geomean(xs);
      const input = caseId === 'bench' ? 'default' : 'small';
      console.log(`${m === 'none' ? 'no' : m} cache: ${engine}/qemu time ratio at ${input} inputs (geomean of ${xs.length}, startup included)`.padEnd(84) + ` ${g.toFixed(2)}   (target ≤ ${target.toFixed(1)}: ${g <= target ? 'met' : 'MISSED'})`);
      const cs = cpuRatios.get(`${m} ${caseId}`)!.filter((x) => Number.isFinite(x));
      if (cs.length) console.log(`${m === 'none' ? 'no' : m} cache: ${engine}/qemu CPU-time ratio at ${input} inputs (geomean of ${cs.length}; every thread)`.padEnd(84) + ` ${geomean(cs).toFixed(2)}`);
    }
    const real = ratios.get(`${m} real`);
    if (real?.length) {
      const g = geomean(real);
      console.log(`${m === 'none' ? 'no' : m} cache: real code bases, ${engine}/qemu time ratio at default inputs (geomean of ${real.length})`.padEnd(84) + ` ${g.toFixed(2)}   (target ≤ 2.0: ${g <= 2 ? 'met' : 'MISSED'})`);
    }
  }
  console.log(`load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores: above the cores, wall times include waiting for one; CPU times much less so`);
  if (wrong) console.log(`${wrong} case(s) gave output different from the recording: their times do not count as results`);
}

function enginesTable(runs: number, only: string[]): void {
  const caseId = arg('case', 'bench');
  // --engines 'block-translator,instrew': only these rows (labels as printed).
  const engines = arg('engines', '').split(',').filter(Boolean);
  const rows: string[][] = [];
  const times = new Map<string, Map<string, number>>();
  const measures = new Map<string, Map<string, Measure>>();
  // Best CPU time of each engine and program: under load it moves far less than the wall time.
  const cpuTimes = new Map<string, Map<string, number>>();
  const put = (label: string, program: string, ms: number, into = times) => {
    if (!into.has(label)) into.set(label, new Map());
    into.get(label)!.set(program, ms);
  };
  let haveQemu = true;
  for (const p of guestPrograms().filter((x) => x.kind === 'benchmark' && (!only.length || only.includes(x.name)))) {
    const c = p.cases.find((x) => x.id === caseId);
    if (!c) continue;
    let instructions = 0;
    for (const e of ENGINES.filter((x) => !engines.length || engines.includes(x.label))) {
      // The interpreter is measured once: its time hardly varies and is long.
      const n = e.engine === 'interpreter' ? 1 : runs;
      let best: Measure | undefined;
      let bestCpu = Infinity;
      for (let i = 0; i < n; i++) {
        const m = measure(e.engine, p.name, c.id, e.options);
        if (!best || m.wallMs < best.wallMs) best = m;
        bestCpu = Math.min(bestCpu, m.cpuMs);
      }
      instructions = best!.instructions;
      put(e.label, p.name, best!.wallMs);
      put(e.label, p.name, bestCpu, cpuTimes);
      if (!measures.has(e.label)) measures.set(e.label, new Map());
      measures.get(e.label)!.set(p.name, best!);
      rows.push([p.name, e.label, `${(best!.instructions / 1e6).toFixed(1)} M`, (best!.wallMs / 1000).toFixed(3), (bestCpu / 1000).toFixed(3), (best!.translateMs / 1000).toFixed(3), (best!.instructions / 1e3 / best!.wallMs).toFixed(0), best!.ok ? 'ok' : 'WRONG']);
      process.stderr.write('.');
    }
    let q: number | undefined;
    let qCpu = Infinity;
    for (let i = 0; i < runs; i++) {
      const t = qemu(p.name, c);
      if (t === undefined) break;
      q = q === undefined ? t.ms : Math.min(q, t.ms);
      qCpu = Math.min(qCpu, t.cpuMs);
    }
    if (q === undefined) haveQemu = false;
    else {
      put('qemu-riscv64', p.name, q);
      put('qemu-riscv64', p.name, qCpu, cpuTimes);
      rows.push([p.name, 'qemu-riscv64', `${(instructions / 1e6).toFixed(1)} M`, (q / 1000).toFixed(3), Number.isFinite(qCpu) ? (qCpu / 1000).toFixed(3) : '', '', (instructions / 1e3 / q).toFixed(0), '']);
    }
  }
  process.stderr.write('\n');
  const head = ['program', 'engine', 'instructions', 'seconds', 'cpu s', 'translate s', 'MIPS', 'output'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  console.log(head.map((h, i) => h.padEnd(widths[i])).join('  '));
  for (const r of rows) console.log(r.map((x, i) => (i >= 2 && i <= 6 ? x.padStart(widths[i]) : x.padEnd(widths[i]))).join('  '));
  console.log('');
  const ratio = (a: string, b: string, set?: Set<string>) => {
    const ta = times.get(a);
    const tb = times.get(b);
    if (!ta || !tb) return NaN;
    return geomean([...ta.keys()].filter((k) => tb.has(k) && (!set || set.has(k))).map((k) => tb.get(k)! / ta.get(k)!));
  };
  // A ratio with nothing to compare (--only left out its programs or --engines its engines) is left out.
  const line = (text: string, value: number, target: string) => {
    if (Number.isFinite(value)) console.log(`${text.padEnd(62)} ${value.toFixed(2)}×   (${target})`);
  };
  line('block-translator speed-up over the interpreter, compute-bound (geomean)', ratio('block-translator', 'interpreter', COMPUTE), 'target ≥ 5×');
  line('instrew speed-up over block-translator, compute-bound (geomean)', ratio('instrew', 'block-translator', COMPUTE), 'target ≥ 2×');
  line('instrew eager speed-up over block-translator, compute-bound', ratio('instrew eager', 'block-translator', COMPUTE), 'Instrew translating every region at once');
  line('instrew eager, translated in the background: speed-up over translated in line', ratio('instrew eager bg', 'instrew eager'), 'translation off the critical path');
  line('instrew, translated in the background: speed-up over translated in line', ratio('instrew bg', 'instrew'), 'virtlab exec\'s default');
  const bin = (what: 'wallMs' | 'translateMs') => {
    const a = measures.get('instrew');
    const b = measures.get('instrew binaryen');
    if (!a || !b) return NaN;
    return geomean([...a.keys()].filter((k) => b.has(k) && COMPUTE.has(k)).map((k) => (what === 'wallMs' ? b.get(k)!.wallMs - b.get(k)!.translateMs : b.get(k)!.translateMs) / Math.max(1e-3, what === 'wallMs' ? a.get(k)!.wallMs - a.get(k)!.translateMs : a.get(k)!.translateMs)));
  };
  const binRest = bin('wallMs');
  if (Number.isFinite(binRest)) console.log(`binaryen (compute-bound, geomean): translation time ×${bin('translateMs').toFixed(1)}, the rest of the run ×${binRest.toFixed(2)}`);
  // Those of the engines run (--engines may leave some out).
  const colds = [...times].filter(([, t]) => t.has('cold-code')).map(([label, t]) => `${label} ${(t.get('cold-code')! / 1000).toFixed(3)} s`);
  if (colds.length) console.log(`translation-heavy (cold-code): ${colds.join(', ')}`);
  const real = guestPrograms().filter((p) => isReal(p) && times.get('instrew')?.has(p.name) && times.get('block-translator')?.has(p.name));
  for (const p of real) {
    const r = times.get('block-translator')!.get(p.name)! / times.get('instrew')!.get(p.name)!;
    line(`real code, ${p.name}: block-translator time / instrew time`, r, `target ≥ 1 (instrew never slower): ${r >= 1 ? 'met' : 'MISSED'}`);
    const rc = cpuTimes.get('block-translator')!.get(p.name)! / cpuTimes.get('instrew')!.get(p.name)!;
    line(`real code, ${p.name}: the same, CPU times`, rc, `${rc >= 1 ? 'met' : 'MISSED'}; a loaded machine distorts these far less`);
  }
  if (haveQemu && times.has('qemu-riscv64')) {
    const q = times.get('qemu-riscv64')!;
    const rs = real.filter((p) => q.has(p.name)).map((p) => times.get('instrew')!.get(p.name)! / q.get(p.name)!);
    // In process, nothing is cached between runs: every run translates from scratch. The
    // real code bases' 2.0 target is for whole processes as users run them, with the
    // translation cache (--section qemu, its warm line); these are for reference.
    const ref = 'no translation cache; the 2.0 target is judged on whole processes: --section qemu';
    line('real code: instrew time / qemu-riscv64 time (geomean, in-process runs)', geomean(rs), ref);
    const qc = cpuTimes.get('qemu-riscv64')!;
    const rcs = real.filter((p) => Number.isFinite(qc.get(p.name) ?? NaN)).map((p) => cpuTimes.get('instrew')!.get(p.name)! / qc.get(p.name)!);
    line('real code: the same, CPU times', geomean(rcs), ref);
    line('qemu-riscv64 time / instrew time (geomean; ≥ 0.5 is within 2×)', ratio('instrew', 'qemu-riscv64'), 'target ≥ 0.5');
    for (const p of FP) if (times.get('qemu-riscv64')!.has(p)) line(`qemu-riscv64 time / instrew time on ${p}`, times.get('qemu-riscv64')!.get(p)! / times.get('instrew')!.get(p)!, 'target > 1 (faster than QEMU)');
  } else console.log('qemu-riscv64 is not installed: its rows were skipped (apt-get install -y qemu-user)');
}

main();
