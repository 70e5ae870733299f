// Every scenario under scenarios/ is a test: it loads, boots, runs to its end, and
// meets every expectation it declares. Those that boot Linux take seconds each and
// are run, with their expectations, by their own tests in __tests__/system.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Simulation } from '../../core/simulation';
import { loadScenarioFile } from '../../tools/node/scenario-file';
import { bootsLinux } from '../../tools/node/testing';

function scenarioFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) return name === 'guests' ? [] : scenarioFiles(p);
      return name.endsWith('.scenario.yaml') || name.endsWith('.scenario.json') ? [p] : [];
    });
}

const files = scenarioFiles(path.join(__dirname, '..', '..', 'scenarios')).filter((f) => !bootsLinux(f));

describe('scenarios', () => {
  it('include the demo', () => {
    expect(files.map((f) => path.basename(f))).toContain('demo.scenario.yaml');
  });

  it.each(files.map((f) => [path.relative(process.cwd(), f)]))('%s meets its expectations', async (file) => {
    const { scenario, catalog, files: data } = loadScenarioFile(file);
    const sim = await Simulation.create({ scenario, catalog, files: data });
    sim.run();
    const result = await sim.finish();
    const failures = result.expectations.filter((e) => !e.ok).map((e) => e.reason);
    expect(failures).toEqual([]);
  });
});
