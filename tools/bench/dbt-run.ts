// One measurement for `npm run bench:dbt`: runs a guest program's case under an
// engine (with options) in this fresh process and prints one JSON line — wall time
// of the run from start to exit (translation included), its CPU time, translation time, the
// instructions retired, the engine's counters, and whether the output matched the
// recording. A fresh process per measurement, so that no engine profits from the
// JavaScript the previous one warmed up.
//
//   node tools/build/run.js tools/bench/dbt-run.ts <engine> <program> <case> [name=value]… [background]

import { resolveEngine } from '../cli/exec';
import { WorkerTranslator } from '../node/background-translator';
import { expectedOf, guestPrograms, runGuestCase } from '../node/guests';

async function main(): Promise<void> {
  const [engineName, programName, caseId, ...args] = process.argv.slice(2);
  // `background` is not an engine option: it translates on a worker thread (lifting,
  // passes, encoding, compiling), as virtlab exec --background-compile does.
  const background = args.includes('background');
  const opts = args.filter((a) => a !== 'background');
  const options: Record<string, unknown> = {};
  for (const kv of opts) {
    const [k, v] = kv.split('=');
    options[k] = v === 'true' ? true : v === 'false' ? false : Number.isNaN(Number(v)) ? v : Number(v);
  }
  const program = guestPrograms().find((p) => p.name === programName);
  const c = program?.cases.find((x) => x.id === caseId);
  if (!program || !c) throw new Error(`no case ${programName}.${caseId}`);
  const engine = await resolveEngine(engineName, options);
  const translator = background ? new WorkerTranslator({ engine: engineName, options, plugins: [] }) : undefined;
  // CPU time of the run (every thread of the process: a background translator's too),
  // which moves far less than the wall time when other processes load the machine.
  const cpu0 = process.cpuUsage();
  const run = runGuestCase(engine, program, c, 0, 10_000_000, { backgroundTranslator: translator });
  const cpu = process.cpuUsage(cpu0);
  await translator?.close();
  const expected = expectedOf(program, c);
  const ok = Buffer.from(run.stdout).equals(Buffer.from(expected.stdout)) && run.status === expected.status;
  const counters = run.instance.counters();
  console.log(JSON.stringify({ wallMs: run.wallMs, cpuMs: (cpu.user + cpu.system) / 1000, instructions: run.instructions, translateMs: counters.translateMs ?? 0, ok, counters }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
