// Interaction coverage: which plugin pairs interact (a common hook, a common written
// component, a component one writes and the other reads, a common service or one's
// service used by the other), and whether some cell ran each such pair together.
import { interactionCoverage, matrixCoverage } from '../../../tools/matrix/matrix';
import type { CellResult, PluginFootprint } from '../../../tools/matrix/run-cell';
import { loadCatalog } from '../../../tools/node/catalog';
import { matrixFile, tempDir } from './helpers';

const tmp = tempDir('coverage');
const catalog = loadCatalog();
const result = (id: string, plugins: Record<string, PluginFootprint>): CellResult => ({ id, key: id, label: id, assignment: {}, status: 'ok', metrics: {}, wallMs: 0, plugins });

describe('interaction coverage', () => {
  it('finds plugins that write a common component, and whether they ran together', () => {
    const synthetic = { hooks: ['lifecycle.boot'], writes: ['MemWorkload', 'Vm'] };
    const guest = { hooks: ['lifecycle.boot'], writes: ['GuestCpu', 'Vm'] };
    const trace = { hooks: ['datacenter.vmPlaced', 'lifecycle.finish'], writes: [] };
    const apart = interactionCoverage([result('a', { 'workload.synthetic': synthetic, 'trace.events': trace }), result('b', { 'workload.guest': guest })], catalog);
    expect(apart).toEqual({ pairs: 1, covered: 0, missing: ['workload.guest + workload.synthetic'], reasons: { 'workload.guest + workload.synthetic': 'both write Vm' } });
    const together = interactionCoverage([result('c', { 'workload.synthetic': synthetic, 'workload.guest': guest })], catalog);
    expect(together.covered).toBe(1);
  });

  it('finds plugins that tap a common hook (other than boot and finish) or share a service', () => {
    const r = interactionCoverage(
      [
        result('a', {
          'migration.xbzrle': { hooks: ['lifecycle.boot'], writes: [], services: ['MigrationService@migration.precopy'] },
          'migration.precopy': { hooks: ['migration.round'], writes: [] },
          'trace.events': { hooks: ['migration.round', 'lifecycle.finish'], writes: [] },
        }),
      ],
      catalog,
    );
    expect(r.reasons).toEqual({
      'migration.precopy + migration.xbzrle': "service MigrationService (migration.xbzrle uses migration.precopy's)",
      'migration.precopy + trace.events': 'both tap migration.round',
    });
    expect(r.covered).toBe(2);
  });

  it('does not count providers of one exclusive capability, which never run together', () => {
    const p = { hooks: ['datacenter.vmPlaced'], writes: [] };
    expect(interactionCoverage([result('a', { 'placement.first-fit': p }), result('b', { 'placement.worst-fit': p })], catalog).pairs).toBe(0);
  });

  it('learns footprints by booting the cells of a matrix', async () => {
    const file = matrixFile(
      tmp,
      'migration',
      'axes:\n  migration.method: [precopy, postcopy]\n  migration.xbzrle: [none, xbzrle]\nmetrics: { dc.vms.running: {} }\n',
      require('node:path').resolve('scenarios/evacuate-rack.scenario.yaml'),
      "{ plugins.migration.xbzrle: null }",
    );
    const { coverage, cells } = await matrixCoverage(file);
    expect(cells).toBe(4);
    expect(coverage.reasons['migration.auto-converge + migration.precopy']).toMatch(/MigrationService/);
    expect(coverage.missing).toEqual([]);
  });
});
