// Every hook of the record fires in some scenario: the record is walked (so a hook
// added to it is checked too), every scenario of the repository runs with a plugin
// that taps every hook, and so do scenarios built here for what the repository's do
// not exercise (translated guests, a guest that faults, a VM that fits nowhere). A
// hook that never fires has no producer, and the test names it.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { createHooks } from '../../../core/hooks';
import { Simulation } from '../../../core/simulation';
import { loadScenarioFile } from '../../../tools/node/scenario-file';
import { bootsLinux } from '../../../tools/node/testing';
import { HookCounts } from '../../fixtures/user-plugins/hook-observer';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const FIXTURES = path.join(ROOT, '__tests__', 'fixtures', 'user-plugins');

/**
 * Hooks documented as awaiting their producer: nothing in the repository fires them
 * yet, and their doc comments say which work will. Keep this list empty otherwise; a
 * hook leaves it as soon as something fires it (the test fails while it is listed).
 */
const AWAITING_PRODUCER = new Set<string>([]);

/** Scenarios the repository's do not cover: translated and faulting guests, a VM too large for any host. */
const BUILT = {
  name: 'hooks-coverage',
  preset: 'minimal',
  tick: '1ms',
  duration: '20ms',
  hosts: [{ profile: 'riscv-board' }],
  vms: [
    { name: 'crc', memory: '256MiB', workload: { kind: 'guest', program: path.join(ROOT, 'scenarios/guests/bin/crc32.elf'), args: ['2'] } },
    { name: 'segv', memory: '256MiB', workload: { kind: 'guest', program: path.join(ROOT, 'scenarios/guests/bin/segv.elf') } },
    { name: 'huge', memory: '1TiB' },
  ],
  plugins: {
    'datacenter.racks': {},
    'placement.first-fit': {},
    'dbt.instrew': { hotThreshold: 0 },
    'workload.guest': { memory: '64MiB' },
  },
};

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'virtlab-hooks-coverage-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A scenario document with the observer added, written to the temporary folder (its guest programs made absolute). */
function withObserver(doc: Record<string, unknown>, base: string): string {
  const d = structuredClone(doc) as { name: string; pluginPaths?: string[]; plugins?: Record<string, unknown>; vms?: Array<{ workload?: { program?: string } }> };
  d.pluginPaths = [...(d.pluginPaths ?? []).map((p) => path.resolve(base, p)), FIXTURES];
  d.plugins = { ...d.plugins, 'user.hook-observer': {} };
  for (const vm of d.vms ?? []) if (vm.workload?.program) vm.workload.program = path.resolve(base, vm.workload.program);
  const file = path.join(dir, `${d.name}.scenario.yaml`);
  writeFileSync(file, stringify(d));
  return file;
}

async function fired(file: string): Promise<Map<string, number>> {
  const { scenario, catalog, files } = loadScenarioFile(file);
  const sim = await Simulation.create({ scenario, catalog, files });
  sim.run();
  await sim.finish();
  return sim.services.get(HookCounts).fired;
}

function repositoryScenarios(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = path.join(d, e);
      if (statSync(p).isDirectory()) {
        if (e !== 'guests') walk(p);
      } else if (e.endsWith('.scenario.yaml') && !bootsLinux(p)) out.push(p); // a Linux boot fires no hook the others do not
    }
  };
  walk(path.join(ROOT, 'scenarios'));
  return out;
}

describe('the hooks record', () => {
  it('has a producer for every hook: each fires in some scenario', async () => {
    const all: string[] = [];
    for (const [group, record] of Object.entries(createHooks())) for (const name of Object.keys(record)) all.push(`${group}.${name}`);
    const files = repositoryScenarios().map((f) => withObserver(parse(readFileSync(f, 'utf8')), path.dirname(f)));
    files.push(withObserver(BUILT, ROOT));
    const seen = new Set<string>();
    for (const file of files) for (const [hook, n] of await fired(file)) if (n > 0) seen.add(hook);
    const silent = all.filter((h) => !seen.has(h) && !AWAITING_PRODUCER.has(h));
    expect({ hooksThatNeverFired: silent }).toEqual({ hooksThatNeverFired: [] });
    // An allow-listed hook that fires, or that is no longer in the record, must leave the list.
    const stale = [...AWAITING_PRODUCER].filter((h) => seen.has(h) || !all.includes(h));
    expect({ allowListedButFiringOrGone: stale }).toEqual({ allowListedButFiringOrGone: [] });
  });
});
