// The PassRules contract on hooks.cpu.optimizeUnit: dbt.instrew's passes report the
// rules they apply by name, and a rule switched off through ctx.rules is not applied.
// Through it, dce's dead-store rule is checked where rle's coalesced range check does
// not cover the stores: the dead store's own access check must stay, so a store to a
// read-only page faults at the first store, as under the interpreter.
//
// Mutation that must break it (checked once): dead-store dropping the store whole,
// check included — the fault then goes unseen.
import { ExecutionEngine, Simulation, type PassRules, type Unit, type UnitPassContext } from 'virtlab';
import { resolveEngine } from '../../tools/cli/exec';
import { scenarioFromText } from '../../tools/node/testing';
import { Assembler, elf } from '../../tools/node/rv-asm';

/** Two stores of the same doubleword through t1 (the data page, or the read-only text), then a load of it. */
function program(readOnly: boolean): Uint8Array {
  const a = new Assembler(0x10000);
  a.lui(8, 0x40);
  a.load(3, 5, 8, 0); // zero, from memory: bases the translator cannot fold
  a.op(0, 0, 8, 8, 5);
  if (readOnly) {
    a.lui(6, 0x10);
    a.op(0, 0, 6, 6, 5);
  } else a.addi(6, 8, 0);
  a.load(3, 11, 8, 8);
  a.addi(12, 11, 3);
  a.store(3, 11, 6, 16);
  a.store(3, 12, 6, 16);
  a.load(3, 13, 8, 16);
  a.addi(17, 0, 93);
  a.op(0, 0, 10, 13, 0);
  a.ecall();
  const data = new Uint8Array(4096);
  data[8] = 7;
  return elf(0x10000, [
    { vaddr: 0x10000, bytes: a.finish(), flags: 5 },
    { vaddr: 0x40000, bytes: data, flags: 6 },
  ]);
}

/** dbt.instrew with some rules switched off, counting the rules that fire. */
async function instrew(off: readonly string[]): Promise<{ engine: ExecutionEngine; fired: Record<string, number> }> {
  const { scenario, catalog } = scenarioFromText('name: rules\npreset: minimal\nduration: 1ns\ntick: 1ns\nplugins:\n  dbt.instrew: { hotThreshold: 0 }\n');
  const sim = await Simulation.create({ scenario, catalog });
  const fired: Record<string, number> = {};
  type Pass = (u: Unit, ctx: UnitPassContext) => Unit;
  sim.hooks.cpu.optimizeUnit.intercept({
    register: (tap) => {
      const fn = tap.fn as Pass;
      const rules: PassRules = { fire: (name) => !off.includes(name) && ((fired[name] = (fired[name] ?? 0) + 1), true) };
      return { ...tap, fn: ((u, ctx) => fn(u, { ...ctx, rules })) as Pass };
    },
  });
  return { engine: sim.services.get(ExecutionEngine), fired };
}

function run(engine: ExecutionEngine, elfBytes: Uint8Array) {
  let instance: ReturnType<ExecutionEngine['start']> | undefined = undefined;
  instance = engine.start({ elf: elfBytes, programPath: 'p', argv: ['p'], envp: [], files: new Map(), memoryBytes: 2 ** 24, stackBytes: 2 ** 20, maxInstructions: 0, readStdin: () => null, writeStdout: () => {}, writeStderr: () => {}, now: () => instance!.instructions, randomBytes: () => {} });
  const status = instance.run(10_000);
  return { state: status.state, exitCode: status.exitCode, faultPc: status.fault?.pc, instructions: instance.instructions };
}

describe('PassRules', () => {
  let oracle: ExecutionEngine;
  beforeAll(async () => {
    oracle = await resolveEngine('interpreter');
  });

  it.each([false, true])('dead-store keeps the program exact with range checks off (read-only target: %s)', async (readOnly) => {
    const { engine, fired } = await instrew(['check-coalesce']);
    const expected = run(oracle, program(readOnly));
    expect(run(engine, program(readOnly))).toEqual(expected);
    expect(fired['dead-store']).toBe(1);
    expect(fired['check-coalesce']).toBeUndefined();
    if (readOnly) expect(expected.faultPc).toBe(0x1001c);
    else expect(expected.exitCode).toBe(10);
  });

  it('a rule switched off is not applied, and the others still report', async () => {
    const { engine, fired } = await instrew(['dead-store', 'check-coalesce']);
    expect(run(engine, program(false))).toEqual(run(oracle, program(false)));
    expect(fired['dead-store']).toBeUndefined();
    expect(fired['forward-reg']).toBeGreaterThan(0);
    expect(fired['dead-value']).toBeGreaterThan(0);
  });
});
