// Runs a conformance suite — a folder of packetdrill-like scripts (*.pkt, format in
// core/models/netstack/conformance.ts) — against every installed netstack
// personality, and formats the pass/fail table that `virtlab conformance` prints.
// Each personality is what its plugin provides in a real simulation: a minimal
// scenario that selects only that kernel.* plugin is booted and NetstackToken read
// from it, so the table tests the manifests as scenarios load them.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { NetstackToken, scenario, Simulation, type NetstackPersonality } from 'virtlab';
import { parseScript, runScript, type ScriptResult } from '../../core/models/netstack/conformance';
import { loadCatalog, REPO_ROOT } from './catalog';
import { scenarioFromText } from './testing';

/** Where `virtlab conformance <name>` looks for a suite given by name. */
export const SUITES_DIR = path.join(REPO_ROOT, 'scenarios', 'conformance');

export interface SuiteResult {
  readonly suite: string;
  readonly scripts: readonly string[];
  readonly personalities: readonly string[];
  /** results[script][personality] */
  readonly results: ReadonlyArray<readonly ScriptResult[]>;
}

/** A suite folder from a name under scenarios/conformance/ or a path; throws a one-line error naming the input. */
export function suiteDir(suite: string): string {
  const byName = path.join(SUITES_DIR, suite);
  const dir = existsSync(byName) ? byName : suite;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    const known = existsSync(SUITES_DIR) ? readdirSync(SUITES_DIR).join(', ') : 'none';
    throw new Error(`no conformance suite '${suite}' (suites in scenarios/conformance: ${known}; or give a folder of .pkt scripts)`);
  }
  return dir;
}

/** Every installed personality (providers of `netstack`), or the listed ones, as their plugins provide them. */
export async function loadPersonalities(only: readonly string[] = [], pluginDirs: string[] = []): Promise<NetstackPersonality[]> {
  const catalog = loadCatalog(pluginDirs.map((d) => path.resolve(d)));
  const ids = catalog
    .list()
    .filter((e) => e.manifest.provides.includes('netstack'))
    .map((e) => e.manifest.id)
    .sort(personalityOrder);
  for (const id of only) if (!ids.includes(id)) throw new Error(`no netstack personality '${id}' (installed: ${ids.join(', ')})`);
  const out: NetstackPersonality[] = [];
  for (const id of only.length ? only : ids) {
    const { scenario: sc, catalog: cat } = scenarioFromText(scenario(`conformance-${id}`).preset('minimal').plugin(id), {}, undefined, pluginDirs);
    const sim = await Simulation.create({ scenario: sc, catalog: cat });
    out.push(sim.services.get(NetstackToken));
  }
  return out;
}

/** host-linux first and lkl second (the comparison the suite exists for), then by id. */
function personalityOrder(a: string, b: string): number {
  const rank = (id: string) => (id === 'kernel.host-linux' ? 0 : id === 'kernel.lkl' ? 1 : 2);
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** Runs every script of a suite against every personality given. */
export function runSuite(dir: string, personalities: readonly NetstackPersonality[]): SuiteResult {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.pkt'))
    .sort();
  if (!files.length) throw new Error(`conformance suite ${dir} holds no .pkt scripts`);
  const results = files.map((f) => {
    const steps = parseScript(readFileSync(path.join(dir, f), 'utf8'), f);
    return personalities.map((p) => runScript(steps, p, f));
  });
  return { suite: dir, scripts: files.map((f) => f.replace(/\.pkt$/, '')), personalities: personalities.map((p) => p.id), results };
}

/** The pass/fail table, a totals row, and (verbose) the first failure of each failing cell. */
export function formatSuite(r: SuiteResult, verbose = false): string {
  const names = r.personalities.map((p) => p.replace(/^kernel\./, ''));
  const w0 = Math.max(6, ...r.scripts.map((s) => s.length));
  const widths = names.map((n) => Math.max(5, n.length));
  const row = (first: string, cells: string[]) => `${first.padEnd(w0)}  ${cells.map((c, i) => c.padEnd(widths[i])).join('  ')}`.trimEnd();
  const lines = [row('script', names), row('-'.repeat(w0), widths.map((w) => '-'.repeat(w)))];
  r.scripts.forEach((s, i) => lines.push(row(s, r.results[i].map((x) => (x.pass ? 'pass' : 'FAIL')))));
  const totals = r.personalities.map((_, j) => `${r.results.filter((x) => x[j].pass).length}/${r.scripts.length}`);
  lines.push(row('passed', totals));
  if (verbose) {
    lines.push('');
    for (const res of r.results) res.forEach((x, j) => x.pass || lines.push(`${names[j]}: ${x.failure}`));
  }
  return lines.join('\n');
}
