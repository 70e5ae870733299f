// Shared set-up for the matrix runner's tests: a temporary folder, matrix files over
// the demo scenario, and a fixture plugin written to disk so that a test can change
// its manifest (a default) or its code between two runs.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { scenarioFile, writeScenario } from '../../../tools/node/testing';

export const DEMO = path.resolve('scenarios/demo.scenario.yaml');

/** A fresh temporary folder, removed after the test file. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `virtlab-matrix-${prefix}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `<dir>/<name>.matrix.yaml` over the demo (3 s, or the given fixed overrides). */
export function matrixFile(dir: string, name: string, body: string, scenario = DEMO, set = '{ duration: 3s }'): string {
  const file = path.join(dir, `${name}.matrix.yaml`);
  writeFileSync(file, `name: ${name}\nscenarios:\n  - file: ${scenario}\n    set: ${set}\n${body}`);
  return file;
}

/**
 * Writes the plugin `fixture.level` under `<dir>/plugins/level/`: a gauge
 * `fixture.level` set to its option `level` (default `level`), and, when `drift` is
 * set, a counter that grows with every simulation the process boots — a plugin that
 * keeps state outside the simulation, which is what the determinism re-run catches.
 */
export function writeLevelPlugin(dir: string, level: number, opts: { drift?: boolean; throwAtTick?: number } = {}): string {
  const folder = path.join(dir, 'plugins', 'level');
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    path.join(folder, 'plugin.json'),
    JSON.stringify({
      id: 'fixture.level',
      version: '0.1.0',
      engine: '^0.1.0',
      description: 'A test plugin whose default shows up in a metric.',
      provides: ['fixture'],
      options: {
        type: 'object',
        additionalProperties: false,
        properties: { level: { type: 'number', default: level, description: 'The value of the fixture.level gauge.' } },
      },
    }),
  );
  writeFileSync(
    path.join(folder, 'index.ts'),
    `import { definePlugin } from 'virtlab';
let booted = 0;
export default definePlugin<{ level: number }>((api) => {
  booted++;
  const level = api.gauge('fixture.level', 'units', 'The level option.');
  const drift = api.counter('fixture.drift', 'runs', 'Simulations booted by this process so far.');
  api.addSystem({
    name: 'fixture.level/set',
    phase: 'metrics',
    run(sim) {
      level.set(api.options.level);
      ${opts.drift ? 'if (sim.tick === 0) drift.add(booted);' : ''}
      ${opts.throwAtTick !== undefined ? `if (sim.tick === ${opts.throwAtTick}) throw new Error('fixture.level broke at tick ${opts.throwAtTick}');` : ''}
    },
  });
});
`,
  );
  return path.join(dir, 'plugins');
}

/** A copy of the demo scenario that also finds the plugins under `pluginDir` and lists `plugins` first. */
export function demoWithPlugins(dir: string, pluginDir: string, plugins: string[] = ['fixture.level']): string {
  let demo = scenarioFile(DEMO).pluginPaths(pluginDir);
  for (const id of [...plugins].reverse()) demo = demo.plugin(id, {}, { before: demo.pluginIds()[0] });
  return writeScenario(dir, 'demo-fixture', demo);
}
