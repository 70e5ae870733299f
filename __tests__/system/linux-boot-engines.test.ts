// The Linux boot under the translating engines of `virtlab boot` (full-system
// translation, system-runtime.ts): OpenSBI, Linux 6.1 and our init under the block
// translator and under instrew must print QEMU's console (scenarios/linux/
// console.qemu.txt, line for line apart from timestamps) and be the interpreter's run
// to the instruction: the same count at power-off, the same exceptions, interrupts and
// page walks. The only heavy thing in its suite: three boots of about 100 million
// instructions each.
//
// Mutation that breaks it (checked): the dispatcher not polling the hart between
// units (interrupts then wait for the next instruction the hart runs): the console
// stays QEMU's, but the count at power-off and the page walks differ. (Skipping the
// code-page check of translated stores does not: this boot runs no stale translation;
// the bare-metal suite has no self-modifying program either.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { committedLinux, LINUX, normalizeConsole } from './linux-console';
import type { HartEngine } from '../../core/models/riscv/system/machine';
import { resolveEngine } from '../../tools/cli/exec';
import { systemEngineOf } from '../../core/models/dbt/engine';

function boot(engine: HartEngine | undefined) {
  const bytes: number[] = [];
  const m = committedLinux((b) => bytes.push(b), engine);
  const r = m.run(2_000_000_000);
  const h = m.hart;
  return {
    console: Buffer.from(bytes).toString('latin1'),
    run: { reason: r.reason, status: r.status, instructions: r.instructions, traps: h.traps, interrupts: h.interrupts, pageWalks: h.pageWalks },
    translated: m.executor.counters?.().instructionsTranslatedCode ?? 0,
  };
}

it('boots Linux under the block translator and instrew exactly as under the interpreter, printing what QEMU printed', async () => {
  const qemu = normalizeConsole(readFileSync(join(LINUX, 'console.qemu.txt'), 'latin1'));
  const reference = boot(undefined);
  expect(reference.run.reason).toBe('poweroff');
  for (const name of ['block-translator', 'instrew']) {
    const engine = systemEngineOf(await resolveEngine(name))!({});
    const run = boot(engine);
    expect(normalizeConsole(run.console)).toEqual(qemu);
    expect(run.console).toBe(reference.console);
    expect(run.run).toEqual(reference.run);
    // Translated code ran nearly all of it.
    expect(run.translated).toBeGreaterThan(0.9 * reference.run.instructions);
  }
}, 1_800_000);
