// AdaMig reproduction: the trends of the paper must come out of the model — AdaMig
// never succeeds less often than pre-copy, its gain grows as bandwidth shrinks and as
// the dirty rate grows, it is not slower where both succeed, and every decision it
// takes is logged with a reason — and the price must show: post-copy loses VMs that a
// failure of the destination hits late in the migration, where pre-copy survives, and
// AdaMig only pays it where pre-copy would not do (light writers stay in pre-copy).
//
// Mutations that must break these tests (each checked once):
// - post-copy cannot fail (MigrationEngine.fail aborting a post-copy migration like a
//   pre-copy one): "loses VMs under a late failure" fails;
// - the controller replaced by "always post-copy" (decide() switching at the first
//   round end): "keeps light writers in pre-copy" fails.
import { readFileSync } from 'node:fs';
import { adamigCases, withFailures, summarize, type AdamigCase } from '../../tools/repro/adamig';
import { runText } from '../../tools/node/testing';

let cases: AdamigCase[];
beforeAll(async () => {
  cases = await withFailures(await adamigCases(0, Infinity));
});

const wins = (cs: AdamigCase[], which: 'precopy' | 'adamig') => cs.filter((c) => c[which].ok).length;

describe('AdaMig against pre-copy over 15 workload/bandwidth cases', () => {
  it('runs 15 cases, none of them an idle VM', () => {
    expect(cases).toHaveLength(15);
    for (const c of cases) expect(c.writes).toBeGreaterThan(0);
  });

  it('never succeeds less often, and succeeds more often overall', () => {
    for (const c of cases) if (c.precopy.ok) expect(c.adamig.ok).toBe(true);
    expect(wins(cases, 'adamig')).toBeGreaterThan(wins(cases, 'precopy'));
  });

  it('gains more as bandwidth shrinks', () => {
    const bws = [...new Set(cases.map((c) => c.bandwidth))].sort((a, b) => parseFloat(b) - parseFloat(a));
    const gain = bws.map((bw) => {
      const cs = cases.filter((c) => c.bandwidth === bw);
      return wins(cs, 'adamig') - wins(cs, 'precopy');
    });
    expect(gain[gain.length - 1]).toBeGreaterThan(gain[0]);
    for (let i = 1; i < gain.length; i++) expect(gain[i]).toBeGreaterThanOrEqual(gain[i - 1]);
  });

  it('gains more as the dirty rate grows, and pre-copy fails more', () => {
    const rates = [...new Set(cases.map((c) => c.writes))].sort((a, b) => a - b);
    const pre = rates.map((r) => wins(cases.filter((c) => c.writes === r), 'precopy'));
    for (let i = 1; i < pre.length; i++) expect(pre[i]).toBeLessThanOrEqual(pre[i - 1]);
    expect(pre[0]).toBe(3);
    expect(pre[pre.length - 1]).toBeLessThan(3);
  });

  it('is never slower where both succeed, and faster on average', () => {
    const both = cases.filter((c) => c.precopy.ok && c.adamig.ok);
    for (const c of both) expect(c.adamig.timeMs).toBeLessThanOrEqual(c.precopy.timeMs * 1.0001);
    expect(summarize(cases).meanChange).toBeLessThan(-0.05);
  });

  it('loses VMs under a late failure of the destination, where pre-copy survives', () => {
    const s = summarize(cases);
    const late = s.lost[s.lost.length - 1];
    expect(late.precopy).toBe(0);
    expect(late.adamig).toBeGreaterThan(0);
    // Only migrations that were in post-copy at the failure are lost.
    for (const c of cases) for (const f of c.failures!) if (f.adamig === 'lost') expect(c.adamig.postcopyMs).toBeGreaterThan(0);
    // And post-copy costs the guest: remote faults slow it down.
    expect(s.slowdown).toBeGreaterThan(0);
  });

  it('keeps light writers in pre-copy, so that it risks post-copy only where it must', () => {
    const light = cases.filter((c) => c.writes <= 2000);
    expect(light.length).toBeGreaterThan(0);
    for (const c of light) expect(c.adamig.postcopyMs).toBe(0);
    expect(summarize(cases).switched).toBeLessThan(cases.length / 2);
  });

  it('logs every decision with its reason', async () => {
    const { result } = await runText(readFileSync('scenarios/repro/adamig.scenario.yaml', 'utf8'));
    const migrations = JSON.parse(result.files.get('migrations.json')!);
    expect(migrations[0].success).toBe(true);
    expect(migrations[0].decisions.length).toBeGreaterThan(0);
    for (const d of migrations[0].decisions) expect(d.reason).toMatch(/dirty rate \d+% of the bandwidth/);
  });
});
