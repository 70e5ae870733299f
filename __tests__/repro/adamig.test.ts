// AdaMig reproduction: the trends of the paper must come out of the model — AdaMig
// never succeeds less often than pre-copy, its gain grows as bandwidth shrinks and as
// the dirty rate grows, it is not slower where both succeed, and every decision it
// takes is logged with a reason.
import { readFileSync } from 'node:fs';
import { adamigCases, type AdamigCase } from '../../tools/repro/adamig';
import { runText } from '../../tools/node/testing';

let cases: AdamigCase[];
beforeAll(async () => {
  cases = await adamigCases(0, Infinity);
});

const wins = (cs: AdamigCase[], which: 'precopy' | 'adamig') => cs.filter((c) => c[which].ok).length;

describe('AdaMig against pre-copy over 15 workload/bandwidth cases', () => {
  it('runs 15 cases', () => {
    expect(cases).toHaveLength(15);
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

  it('is never slower where both succeed, and faster somewhere', () => {
    const both = cases.filter((c) => c.precopy.ok && c.adamig.ok);
    for (const c of both) expect(c.adamig.timeMs).toBeLessThanOrEqual(c.precopy.timeMs * 1.0001);
    expect(both.some((c) => c.adamig.timeMs < c.precopy.timeMs)).toBe(true);
  });

  it('logs every decision with its reason', async () => {
    const { result } = await runText(readFileSync('scenarios/repro/adamig.scenario.yaml', 'utf8'));
    const migrations = JSON.parse(result.files.get('migrations.json')!);
    expect(migrations[0].success).toBe(true);
    expect(migrations[0].decisions.length).toBeGreaterThan(0);
    for (const d of migrations[0].decisions) expect(d.reason).toMatch(/dirty rate \d+% of the bandwidth/);
  });
});
