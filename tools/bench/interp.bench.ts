// Interpreter benchmark (`npm run bench:interp`): runs the integer guest benchmarks
// (crc32, sort, matmul-int, bytecode; their `bench` case, or `--case small`) under the
// interpreter engine in this process, then the floating-point ones (matmul-double,
// nbody) apart from the integer geomean, checks each output against the recorded one, and
// prints MIPS by CPU time of this process (process.cpuUsage), which a loaded machine
// distorts far less than wall time, next to the wall time. `--runs N` repeats each
// program N times in the same process and keeps the best. Run it with `node
// --trace-deopt` and count the lines naming `run` to see how often V8 throws the
// interpreter's loop away.

import { resolveEngine } from '../cli/exec';
import { expectedOf, guestPrograms, runGuestCase } from '../node/guests';

const INTEGER = ['crc32', 'sort', 'matmul-int', 'bytecode'];
const FLOAT = ['matmul-double', 'nbody'];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function geomean(xs: number[]): number {
  return xs.length ? Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length) : NaN;
}

async function main(): Promise<void> {
  const caseId = arg('--case', 'bench');
  const runs = Number(arg('--runs', '1'));
  const only = arg('--only', '');
  const engine = await resolveEngine('interpreter');
  const dec = new TextDecoder();
  const programs = guestPrograms();
  const measure = (names: string[]): { byCpu: number[]; byWall: number[] } => {
    const byCpu: number[] = [];
    const byWall: number[] = [];
    for (const program of programs.filter((p) => names.includes(p.name) && (!only || p.name === only))) {
      const c = program.cases.find((x) => x.id === caseId);
      if (!c) continue;
      const expected = expectedOf(program, c);
      let bestCpu = Infinity;
      let bestWall = Infinity;
      let instructions = 0;
      for (let i = 0; i < runs; i++) {
        const u0 = process.cpuUsage();
        const run = runGuestCase(engine, program, c);
        const u = process.cpuUsage(u0);
        if (dec.decode(run.stdout) !== dec.decode(expected.stdout) || run.status !== expected.status) throw new Error(`${program.name}: wrong output`);
        instructions = run.instructions;
        bestCpu = Math.min(bestCpu, (u.user + u.system) / 1000);
        bestWall = Math.min(bestWall, run.wallMs);
      }
      const mCpu = instructions / 1e3 / bestCpu;
      const mWall = instructions / 1e3 / bestWall;
      byCpu.push(mCpu);
      byWall.push(mWall);
      console.log(`${program.name.padEnd(11)} ${(instructions / 1e6).toFixed(1).padStart(7)} M  cpu ${bestCpu.toFixed(0).padStart(6)} ms  wall ${bestWall.toFixed(0).padStart(6)} ms  ${mCpu.toFixed(1).padStart(6)} MIPS (cpu)  ${mWall.toFixed(1).padStart(6)} MIPS (wall)`);
    }
    return { byCpu, byWall };
  };
  const int = measure(INTEGER);
  console.log(`interpreter: integer geomean ${geomean(int.byCpu).toFixed(1)} MIPS by CPU time, ${geomean(int.byWall).toFixed(1)} by wall time (target of issue 17: 150), best of ${runs}`);
  const fp = measure(FLOAT);
  if (fp.byCpu.length) console.log(`interpreter: floating-point geomean ${geomean(fp.byCpu).toFixed(1)} MIPS by CPU time, ${geomean(fp.byWall).toFixed(1)} by wall time (no target), best of ${runs}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
