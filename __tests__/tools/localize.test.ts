// `virtlab localize` (tools/jitloc/): each bug that dbt.instrew's `inject` option
// puts into a pass is exposed by a guest program and localized to its pass and rule
// within a run budget; so is the bug of a third-party pass plugin loaded from a folder
// outside the repository; a program without a bug shows no divergence; with two bugs
// at once, both guilty passes rank above every innocent one.
//
// Mutations of the mechanism that must break these tests (each checked once):
// - a ranking that ignores the failing runs (Ochiai counting only the passing runs
//   that fired a rule) breaks the two-bug test;
// - PassRules.fire ignoring the switched-off rules (rule-level delta debugging then
//   finds no rule) breaks every per-bug test;
// - dropping the enabler rule from delta debugging (keeping every rule whose removal
//   alone fixes the run) breaks the fold:shift-mask test, where switching off fold's
//   register forwarding also hides the bug;
// - translated code running the interpreted instruction after a unit that used the
//   whole budget (the runtime fix) breaks the instruction-budget test.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Rng, type ExecutionEngine } from 'virtlab';
import { resolveEngine } from '../../tools/cli/exec';
import { INJECTED, strengthGuest, twoBugGuest, crossUnitStoreGuest, widthAliasGuest } from '../../tools/jitloc/guests';
import { localize, type LocalizeReport } from '../../tools/jitloc/localize';
import { cli } from './run-cli';

/** Runs (executions of the guest under one engine) a localization may take. */
const RUN_BUDGET = 250;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'virtlab-localize-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const rankOf = (r: LocalizeReport, pass: string) => r.ranking.passes.find((p) => p.name === pass)?.rank ?? Infinity;

describe.each(INJECTED)('injected bug $inject', ({ inject, pass, rule, guest }) => {
  let report: LocalizeReport;
  beforeAll(async () => {
    report = await localize({ elf: guest(), programPath: 'bug.elf', engineOptions: { inject: [inject] } });
  });

  it('is exposed by its guest program: the optimized run parts from the interpreter', () => {
    expect(report.diverged).toBe(true);
    expect(report.divergence!.differences.length).toBeGreaterThan(0);
    expect(report.outsidePasses).toBe(false);
  });

  it(`is localized to ${pass}, rule ${rule}, within ${RUN_BUDGET} runs`, () => {
    expect(report.guilty.map((g) => g.pass)).toEqual([pass]);
    expect(report.guilty[0].rules).toEqual([rule]);
    expect(rankOf(report, pass)).toBe(1);
    expect(report.runs.total).toBeLessThanOrEqual(RUN_BUDGET);
  });

  it('generated failing and passing variants of the failing unit, with pass records', () => {
    expect(report.variants.failing).toBeGreaterThan(0);
    expect(report.variants.passing).toBeGreaterThan(0);
    const unit = report.units[0];
    // Every variant's record names each pass with a digest before and after it.
    for (const v of unit.records) for (const p of v.passes) expect(p.before).toMatch(/^[0-9a-f]{8}$/);
    expect(unit.records[0].passes.some((p) => p.pass === pass && (p.fired[rule] ?? 0) > 0)).toBe(true);
    // The minimized unit still holds fewer instructions than the unit.
    expect(unit.minimized.kept.length).toBeLessThan(unit.instructions);
  });
});

describe('without an injected bug', () => {
  it.each([
    ['each bug\'s guest', INJECTED.map((b) => b.guest)],
    ['the two-bug guest and the strength guest', [twoBugGuest, strengthGuest]],
  ])('reports no divergence for %s', async (_name, guests) => {
    for (const g of guests) {
      const r = await localize({ elf: g(), programPath: 'clean.elf' });
      expect(r.diverged).toBe(false);
      expect(r.guilty).toEqual([]);
      expect(r.runs.total).toBe(2);
    }
  });
});

describe('two bugs at once (fold:imm-sign and rle:width-alias, in two functions)', () => {
  let report: LocalizeReport;
  beforeAll(async () => {
    report = await localize({ elf: twoBugGuest(), programPath: 'two.elf', engineOptions: { inject: ['fold:imm-sign', 'rle:width-alias'] } });
  });

  it('ranks both guilty passes above every innocent one', () => {
    const innocent = report.ranking.passes.filter((p) => p.name !== 'dbt.instrew/fold' && p.name !== 'dbt.instrew/rle');
    expect(innocent.length).toBeGreaterThan(0);
    for (const p of innocent) {
      expect(rankOf(report, 'dbt.instrew/fold')).toBeLessThan(p.rank);
      expect(rankOf(report, 'dbt.instrew/rle')).toBeLessThan(p.rank);
    }
  });

  it('finds both failing units and names both passes and rules', () => {
    expect(report.units).toHaveLength(2);
    const guilty = Object.fromEntries(report.guilty.map((g) => [g.pass, g.rules]));
    expect(guilty).toEqual({ 'dbt.instrew/fold': ['add-chain'], 'dbt.instrew/rle': ['load-load'] });
  });
});

describe('a third-party pass plugin outside the repository', () => {
  let report: LocalizeReport;
  beforeAll(async () => {
    const folder = path.join(tmp, 'my-passes');
    cpSync(path.resolve(__dirname, '..', 'fixtures', 'jitloc-plugins', 'strength'), path.join(folder, 'strength'), { recursive: true });
    report = await localize({ elf: strengthGuest(), programPath: 'strength.elf', plugins: ['research.strength'], pluginPaths: [folder] });
  });

  it('is localized by its tap name and its own rule name, known to the tool only from the run', () => {
    expect(report.guilty).toEqual([{ pass: 'research.strength/strength', rules: ['mul-neg-pow2'], rank: 1 }]);
    expect(report.runs.total).toBeLessThanOrEqual(RUN_BUDGET);
  });
});

describe('virtlab localize', () => {
  it('writes the report file and exits 1 when the program diverges', async () => {
    const elf = path.join(tmp, 'alias.elf');
    writeFileSync(elf, widthAliasGuest());
    const out = path.join(tmp, 'alias-report.txt');
    const r = await cli('localize', '--option', 'inject=[rle:width-alias]', '--variants', '12', '--quiet', '--out', out, elf);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/guilty pass: dbt\.instrew\/rle \(rank 1\); rule: load-load/);
    expect(r.out).toMatch(/^runs: \d+/m);
    expect(r.out).toMatch(/minimized/);
    expect(readFileSync(out, 'utf8')).toContain('guilty pass: dbt.instrew/rle');
    const json = JSON.parse(readFileSync(path.join(tmp, 'alias-report.json'), 'utf8')) as LocalizeReport;
    expect(json.guilty[0].rules).toEqual(['load-load']);
  });

  it('exits 0 with no divergence when nothing is injected', async () => {
    const elf = path.join(tmp, 'store.elf');
    writeFileSync(elf, crossUnitStoreGuest());
    const r = await cli('localize', '--quiet', '--out', path.join(tmp, 'store.txt'), elf);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/no divergence/);
  });

  it('answers bad input with one line and exit status 2', async () => {
    expect((await cli('localize', path.join(tmp, 'missing.elf'))).err).toMatch(/no such program/);
    const r = await cli('localize', '--option', 'inject=[fold:nothing]', '--out', path.join(tmp, 'x.txt'), path.join(tmp, 'alias.elf'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--option inject/);
    expect((await cli('localize', '--engine', 'interpreter', path.join(tmp, 'alias.elf'))).code).toBe(2);
    expect(existsSync(path.join(tmp, 'x.txt'))).toBe(false);
  });
});

// The bisection that finds the divergence relies on every engine stopping at exactly
// the instruction budget, also when a translated unit ends in an instruction left to
// the interpreter (a system call).
describe('the instruction budget', () => {
  let engines: ExecutionEngine[];
  beforeAll(async () => {
    engines = [await resolveEngine('interpreter'), await resolveEngine('instrew', { hotThreshold: 0 }), await resolveEngine('block-translator')];
  });

  it('is exact under every engine, at every budget through a program', () => {
    const elf = crossUnitStoreGuest();
    for (let budget = 1; budget <= 30; budget++) {
      const retired = engines.map((e) => {
        const rng = new Rng(1, 'budget');
        let instance: ReturnType<ExecutionEngine['start']> | undefined = undefined;
        instance = e.start({ elf, programPath: 'p', argv: ['p'], envp: [], files: new Map(), memoryBytes: 2 ** 24, stackBytes: 2 ** 20, maxInstructions: 0, readStdin: () => null, writeStdout: () => {}, writeStderr: () => {}, now: () => instance!.instructions, randomBytes: (o) => rng.fillBytes(o) });
        instance.run(budget);
        return instance.instructions;
      });
      expect(retired).toEqual(retired.map(() => Math.min(budget, retired[0])));
    }
  });
});
