// The translators' extension points through real simulations: hooks.cpu.blockTranslated
// reports every unit, and hooks.cpu.optimizeUnit is a pass pipeline that a plugin
// outside the repository extends — its pass runs at its stage among dbt.instrew's own,
// and what it returns is what gets compiled — and both translators drop the
// translations of code the guest rewrites.
import path from 'node:path';
import { ExecutionEngine } from 'virtlab';
import { expectedOf, guestPrograms, runGuestCase } from '../../tools/node/guests';
import { bootText } from '../../tools/node/testing';
import { PassLog } from '../fixtures/user-plugins/dbt-pass';

const FIXTURES = path.resolve('__tests__/fixtures/user-plugins');
const crc = guestPrograms().find((p) => p.name === 'crc32')!;
const small = crc.cases.find((c) => c.id === 'small')!;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function engineWith(engine: string, pass = '{}') {
  const sim = await bootText(`name: dbt-hooks\npreset: minimal\nduration: 1ns\ntick: 1ns\nplugins:\n  ${engine}\n  user.dbt-pass: ${pass}\n`, {}, [FIXTURES]);
  return { engine: sim.services.get(ExecutionEngine), log: sim.services.get(PassLog) };
}

describe('hooks.cpu.blockTranslated', () => {
  it.each([
    ['dbt.block-translator: {}', 'block'],
    ['dbt.instrew: { hotThreshold: 0 }', 'function'],
  ])('fires for every unit that %s translates, with its guest range and host size', async (plugin, kind) => {
    const { engine, log } = await engineWith(plugin);
    const run = runGuestCase(engine, crc, small);
    const c = run.instance.counters();
    expect(log.translated.length).toBe(c.units);
    expect(log.translated.reduce((n, e) => n + e.guestInstructions, 0)).toBe(c.guestInstructionsTranslated);
    for (const e of log.translated) {
      expect(e.kind).toBe(kind);
      expect(e.guestInstructions).toBeGreaterThan(0);
      expect(e.guestBytes).toBeGreaterThanOrEqual(2 * e.guestInstructions);
      expect(e.hostBytes).toBeGreaterThan(0);
      expect(e.translateNs).toBeGreaterThan(0);
    }
    expect(new Set(log.translated.map((e) => e.guestStart)).size).toBe(log.translated.length);
  });
});

describe('hooks.cpu.optimizeUnit', () => {
  it("runs a plugin's pass on every region dbt.instrew translates", async () => {
    const { engine, log } = await engineWith('dbt.instrew: { hotThreshold: 0 }');
    runGuestCase(engine, crc, small);
    expect(log.entries.length).toBeGreaterThan(0);
    expect(log.entries.every((e) => e.translator === 'dbt.instrew')).toBe(true);
    expect(log.entries.length).toBe(log.translated.length);
  });

  it('sees the unit after fold when tapped later, and before it when tapped earlier', async () => {
    const late = await engineWith('dbt.instrew: { hotThreshold: 0 }', '{ stage: 50 }');
    const early = await engineWith('dbt.instrew: { hotThreshold: 0 }', '{ stage: -150 }');
    runGuestCase(late.engine, crc, small);
    runGuestCase(early.engine, crc, small);
    const reads = (l: PassLog) => l.entries.reduce((n, e) => n + e.getx, 0);
    // fold forwards repeated register reads, so fewer remain when the pass runs after it.
    expect(reads(late.log)).toBeLessThan(reads(early.log));
  });

  it("compiles what the pass returns: a pass that deletes every store changes the guest's behaviour", async () => {
    const { engine, log } = await engineWith('dbt.instrew: { hotThreshold: 0 }', '{ dropStores: true }');
    const run = runGuestCase(engine, crc, small, 50_000_000);
    expect(log.entries.some((e) => e.stores > 0)).toBe(true);
    expect(text(run.stdout)).not.toBe(text(expectedOf(crc, small).stdout));
  });

  it('leaves the block translator alone', async () => {
    const { engine, log } = await engineWith('dbt.block-translator: {}');
    const run = runGuestCase(engine, crc, small);
    expect(log.entries.length).toBe(0);
    expect(text(run.stdout)).toBe(text(expectedOf(crc, small).stdout));
  });
});

describe('self-modifying code', () => {
  const smc = guestPrograms().find((p) => p.name === 'smc')!;
  it.each(['dbt.block-translator: {}', 'dbt.instrew: { hotThreshold: 0 }'])('drops the translations of code the guest rewrites, under %s', async (plugin) => {
    const { engine } = await engineWith(plugin);
    const c = smc.cases[0];
    const run = runGuestCase(engine, smc, c);
    expect(text(run.stdout)).toBe(text(expectedOf(smc, c).stdout));
    expect(run.instance.counters().invalidatedUnits).toBeGreaterThan(0);
  });
});
