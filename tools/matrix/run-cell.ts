// Runs one matrix cell: applies its assignment to the scenario (a plugin choice per
// capability axis, `--set` overrides for option axes, the seed), boots, runs and
// finishes the simulation, and returns the selected metrics, a hash of metrics.json
// (for determinism checks), and which hooks each plugin tapped and which components
// its systems write (for interaction coverage). A registry refusal makes the cell
// "skipped" with the registry's reason; any other error makes it "failed".

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CAPABILITIES, PRESETS, RegistryError, Simulation, type PluginCatalog } from 'virtlab';
import { parseDocumentText } from '../../core/scenario/loader';
import { loadScenarioFile } from '../node/scenario-file';
import type { AxisValue, Cell } from './cells';

export interface CellResult {
  readonly id: string;
  readonly label: string;
  readonly assignment: Readonly<Record<string, AxisValue>>;
  readonly status: 'ok' | 'failed' | 'skipped' | 'timeout';
  readonly error?: string;
  readonly metrics: Record<string, number | null>;
  readonly metricsHash?: string;
  readonly wallMs: number;
  /** Plugins of the cell, with the hooks each tapped and the components it writes. */
  readonly plugins: Record<string, { hooks: string[]; writes: string[] }>;
}

/** Is this axis a capability choice (placement: [first-fit, worst-fit])? */
export function isCapabilityAxis(name: string, catalog: PluginCatalog): boolean {
  return name in CAPABILITIES || catalog.providersOf(name).length > 0;
}

/** The `--set` overrides and seed that apply a cell's assignment to its scenario. */
export function cellOverrides(cell: Cell, catalog: PluginCatalog): { set: Array<{ path: string; value: unknown }>; seed?: number } {
  const set = Object.entries(cell.scenarioSet).map(([path, value]) => ({ path, value }));
  const optionSets: Array<{ path: string; value: unknown }> = [];
  let seed: number | undefined;
  const doc = parseDocumentText(readFileSync(cell.scenario, 'utf8'), cell.scenario).data;
  const plugins: Record<string, unknown> = { ...((doc.plugins as Record<string, unknown> | undefined) ?? {}) };
  const without = new Set<string>((doc.without as string[] | undefined) ?? []);
  let pluginsChanged = false;
  for (const [axis, value] of Object.entries(cell.assignment)) {
    if (axis === 'seed') seed = Number(value);
    else if (isCapabilityAxis(axis, catalog)) {
      // Drop every provider of the capability the scenario lists, then add the choice.
      for (const id of catalog.providersOf(axis)) delete plugins[id];
      pluginsChanged = true;
      if (value === 'none' || value === null) {
        for (const id of catalog.providersOf(axis)) without.add(id);
      } else {
        // A value names a provider: its full id, `<axis>.<value>`, or the provider of the
        // capability whose id ends in `.<value>` (migration.controller: adamig).
        const v = String(value);
        const id = v.includes('.') ? v : catalog.get(`${axis}.${v}`) ? `${axis}.${v}` : (catalog.providersOf(axis).find((p) => p.endsWith(`.${v}`)) ?? `${axis}.${v}`);
        catalog.require(id);
        plugins[id] = {};
      }
    } else optionSets.push({ path: axis, value });
  }
  if (pluginsChanged) {
    set.push({ path: 'plugins', value: plugins });
    const preset = PRESETS[(doc.preset as keyof typeof PRESETS | undefined) ?? 'default'] ?? [];
    set.push({ path: 'without', value: [...without].filter((id) => preset.includes(id)).sort() });
  }
  // Option values go last, so that a replaced plugin list does not drop them.
  return { set: [...set, ...optionSets], seed };
}

/** Runs a cell in this thread; it times out after `timeoutMs` of wall-clock time. */
export async function runCell(cell: Cell, metricNames: readonly string[], catalog: PluginCatalog, timeoutMs: number): Promise<CellResult> {
  const t0 = performance.now();
  const base = { id: cell.id, label: cell.label, assignment: cell.assignment };
  let sim: Simulation;
  try {
    const overrides = cellOverrides(cell, catalog);
    const { scenario, catalog: cat, files } = loadScenarioFile(cell.scenario, overrides);
    sim = await Simulation.create({ scenario, catalog: cat, files });
  } catch (e) {
    const skipped = e instanceof RegistryError;
    const msg = `${(e as Error).message}${(e as RegistryError).hint ? ` (${(e as RegistryError).hint})` : ''}`;
    return { ...base, status: skipped ? 'skipped' : 'failed', error: msg, metrics: {}, wallMs: performance.now() - t0, plugins: {} };
  }
  try {
    const deadline = t0 + timeoutMs;
    let timedOut = false;
    const chunk = Math.max(1, Math.floor(sim.totalTicks / 100));
    while (sim.tick < sim.totalTicks) {
      sim.runUntil((sim.tick + chunk) * sim.dtNs);
      if (performance.now() > deadline) {
        timedOut = true;
        break;
      }
    }
    if (timedOut) {
      return { ...base, status: 'timeout', error: `timed out after ${timeoutMs} ms at tick ${sim.tick} of ${sim.totalTicks}`, metrics: {}, wallMs: performance.now() - t0, plugins: interactions(sim) };
    }
    const result = await sim.finish();
    const metrics: Record<string, number | null> = {};
    for (const name of metricNames) metrics[name] = sim.metrics.value(name) ?? null;
    return {
      ...base,
      status: 'ok',
      metrics,
      metricsHash: createHash('sha256').update(result.metricsJson).digest('hex'),
      wallMs: performance.now() - t0,
      plugins: interactions(sim),
    };
  } catch (e) {
    return { ...base, status: 'failed', error: (e as Error).stack ?? String(e), metrics: {}, wallMs: performance.now() - t0, plugins: interactions(sim) };
  }
}

/** Which hooks each selected plugin tapped and which components its systems write. */
export function interactions(sim: Simulation): Record<string, { hooks: string[]; writes: string[] }> {
  const out: Record<string, { hooks: string[]; writes: string[] }> = {};
  const ids = sim.selectedPlugins.map((p) => p.id);
  for (const id of ids) out[id] = { hooks: [], writes: [] };
  const owner = (tapName: string) => ids.filter((id) => tapName === id || tapName.startsWith(`${id}-`) || tapName.startsWith(`${id}/`)).sort((a, b) => b.length - a.length)[0];
  for (const [group, record] of Object.entries(sim.hooks)) {
    for (const [name, hook] of Object.entries(record as Record<string, { taps: Array<{ name: string }> }>)) {
      for (const tap of hook.taps) {
        const id = owner(tap.name);
        if (id && !out[id].hooks.includes(`${group}.${name}`)) out[id].hooks.push(`${group}.${name}`);
      }
    }
  }
  for (const s of sim.systemOrder) {
    if (!out[s.owner]) continue;
    for (const c of s.writes ?? []) if (!out[s.owner].writes.includes(c.name)) out[s.owner].writes.push(c.name);
  }
  for (const v of Object.values(out)) {
    v.hooks.sort();
    v.writes.sort();
  }
  return out;
}
