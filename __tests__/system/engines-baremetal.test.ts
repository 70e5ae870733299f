// The bare-metal programs under every engine of `virtlab boot`: the hart's interpreter,
// the block translator and instrew (full-system translation, system-runtime.ts). Each
// translated run must be the interpreter's to the instruction: the same console, the
// same count at power-off, the same exceptions, interrupts and page walks — and so
// when the machine runs it in small chunks, where every run ends at a budget that
// cuts units short.
//
// Mutation that breaks it (checked): a unit entered with one instruction less budget
// than its block needs (the checkpoint in emit.ts comparing with bound − 1): runs
// stop one instruction past their limit.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VirtMachine, type HartEngine } from '../../core/models/riscv/system/machine';
import { resolveEngine } from '../../tools/cli/exec';
import { systemEngineOf } from '../../core/models/dbt/engine';

const DIR = join(__dirname, '../../scenarios/baremetal');

async function engineOf(name: string, options: Record<string, unknown> = {}): Promise<HartEngine | undefined> {
  if (name === 'interpreter') return undefined;
  const e = await resolveEngine(name, options);
  return systemEngineOf(e)!({});
}

function boot(name: string, engine: HartEngine | undefined, chunk?: number) {
  const bytes: number[] = [];
  const m = new VirtMachine({ kernel: readFileSync(join(DIR, 'bin', `${name}.elf`)), console: (b) => bytes.push(b), engine });
  const r = m.run(50_000_000, chunk);
  const h = m.hart;
  return {
    console: Buffer.from(bytes).toString('latin1'),
    reason: r.reason,
    status: r.status,
    instructions: r.instructions,
    traps: h.traps,
    interrupts: h.interrupts,
    pageWalks: h.pageWalks,
    idleTicks: m.idleTicks,
    translated: m.executor.counters?.().instructionsTranslatedCode ?? 0,
  };
}

const ENGINES: Array<[string, Record<string, unknown>]> = [
  ['block-translator', {}],
  ['instrew', { hotThreshold: 0 }],
  ['instrew', {}],
];

describe.each(['traps', 'vm'])('bare-metal program %s', (name) => {
  const reference = boot(name, undefined);

  it('prints what it printed under qemu-system-riscv64 under the interpreter', () => {
    expect(reference.console).toBe(readFileSync(join(DIR, 'expected', `${name}.txt`), 'latin1'));
    expect(reference.reason).toBe('poweroff');
  });

  it.each(ENGINES)('runs under %s %j exactly as under the interpreter, whole and in chunks', async (engine, options) => {
    const whole = boot(name, await engineOf(engine, options));
    expect({ ...whole, translated: 0 }).toEqual(reference);
    // Most of it ran as translated code (not the hart's interpreter on the translator's behalf).
    expect(whole.translated).toBeGreaterThan(options.hotThreshold === 0 ? reference.instructions / 2 : 0);
    const cut = boot(name, await engineOf(engine, options), 7);
    expect({ ...cut, translated: 0 }).toEqual(reference);
  });

  it.each(ENGINES)('under %s %j, stops at exactly the instruction asked, whatever the limit', async (engine, options) => {
    const bytes: number[] = [];
    const m = new VirtMachine({ kernel: readFileSync(join(DIR, 'bin', `${name}.elf`)), console: (b) => bytes.push(b), engine: await engineOf(engine, options) });
    const steps = [1, 2, 3, 5, 8, 13, 21, 34, 55];
    const overshoots: Array<[number, number]> = [];
    let r = m.run(0);
    for (let limit = 0, i = 0; r.reason === 'limit'; i++) {
      limit += steps[i % steps.length];
      r = m.run(limit);
      if (r.reason === 'limit' && r.instructions !== limit) overshoots.push([limit, r.instructions]);
    }
    expect(overshoots).toEqual([]);
    expect(r.instructions).toBe(reference.instructions);
    expect(Buffer.from(bytes).toString('latin1')).toBe(reference.console);
  });
});
