// virtlab compare: metric deltas with relative changes, and the plugins, options and
// scenario values that differ, in the terminal and as HTML.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from './run-cli';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'virtlab-compare-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function results(name: string, time: number, plugins: Array<{ id: string; options: Record<string, unknown> }>, seed = 1): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const metrics = {
    'migration.time': { kind: 'histogram', unit: 'ms', description: 'Total time of completed migrations.', count: 4, mean: time, p50: time, p99: time * 1.1, max: time * 1.1 },
    'dc.vms': { kind: 'gauge', unit: 'count', description: 'VMs declared by the scenario.', value: 40 },
  };
  writeFileSync(path.join(dir, 'metrics.json'), JSON.stringify({ scenario: 'x', seed, simulatedNs: 1e9, metrics }));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ scenario: { name: 'x', seed, file: `/somewhere/${name}.yaml` }, plugins: plugins.map((p) => ({ ...p, version: '0.1.0' })) }));
  return dir;
}

describe('virtlab compare', () => {
  it('prints the metrics that changed with their relative change, and what differs in the configuration', async () => {
    const a = results('a', 30000, [{ id: 'migration.precopy', options: { bandwidth: 1e9, deadline: 600e9 } }, { id: 'migration.xbzrle', options: {} }]);
    const b = results('b', 24000, [{ id: 'migration.precopy', options: { bandwidth: 2e9, deadline: 600e9 } }], 2);
    const html = path.join(tmp, 'compare.html');
    const r = await cli('compare', a, b, '--html', html);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/migration\.precopy bandwidth\s+1 Gbit\/s\s+2 Gbit\/s/);
    expect(r.out).toMatch(/plugin migration\.xbzrle\s+selected \(0\.1\.0\)\s+—/);
    expect(r.out).toMatch(/scenario seed\s+1\s+2/);
    expect(r.out).not.toMatch(/deadline|scenario file/);
    expect(r.out).toMatch(/migration\.time \(mean\)\s+30 s\s+24 s\s+−20 %/);
    expect(r.out).toMatch(/1 metrics are the same in every run/);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<td class="n">−20 %</td>');
    expect(page).toContain('Total time of completed migrations.');
    expect(page).not.toMatch(/<script/);
  });

  it('refuses a folder that holds no results, with exit status 2', async () => {
    const r = await cli('compare', tmp, results('c', 1, []));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: .* has no metrics\.json/);
    expect((await cli('compare', tmp)).code).toBe(2);
  });
});
