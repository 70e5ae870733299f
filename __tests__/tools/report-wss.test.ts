// The report's working-set section: one chart per VM with every estimator's series
// against the truth, read from the wss.<estimator>.json files a run writes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { wssSection } from '../../tools/report/wss';

describe('report: working-set estimates', () => {
  it('charts each estimator against the truth, per VM', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wss-report-'));
    const series = (estimator: string, values: number[]) =>
      writeFileSync(path.join(dir, `${estimator}.json`), JSON.stringify({ estimator, intervalNs: 1e9, vms: [0, 1].map((vm) => ({ vm, group: 'g', memoryBytes: 1e9, t: [1e9, 2e9, 3e9], bytes: values })) }));
    series('wss.truth', [4e8, 4e8, 4e8]);
    series('wss.pml', [0, 0, 4e8]);
    const html = wssSection(dir);
    expect(html.match(/<figure[ >]/g)).toHaveLength(2);
    expect(html.match(/<polyline/g)).toHaveLength(4);
    expect(html).toContain('wss.pml');
    expect(html).toContain('stroke-dasharray');
  });

  it('is empty when the run has no estimators', () => {
    expect(wssSection(mkdtempSync(path.join(os.tmpdir(), 'wss-report-')))).toBe('');
  });
});
