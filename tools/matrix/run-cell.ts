// Runs one matrix cell: applies its assignment to the scenario (a plugin choice per
// capability axis, `--set` overrides for option axes, the seed), boots, runs and
// finishes the simulation, and returns the selected metrics, a hash of metrics.json
// (for determinism checks), and each plugin's footprint for interaction coverage: the
// hooks it tapped, the components its systems write and read, and the services its
// hook handlers resolve. A registry refusal makes the cell
// "skipped" with the registry's reason; any other error makes it "failed". Values the
// scenario loader refuses are the matrix file's bad input: checkCellInputs finds them
// before any cell runs.

import { createHash } from 'node:crypto';
import { CAPABILITIES, CommandLineError, estimateWork, limits, PluginOptionError, PRESETS, RegistryError, ScenarioError, Simulation, type Override, type PluginCatalog, type ServiceToken } from 'virtlab';
import { loadScenarioFile, openScenarioFile } from '../node/scenario-file';
import type { AxisValue, Cell } from './cells';

export interface CellResult {
  readonly id: string;
  /** The cell's key (see cells.ts): its stored result is cells/<key>.json. */
  readonly key: string;
  readonly label: string;
  readonly assignment: Readonly<Record<string, AxisValue>>;
  readonly status: 'ok' | 'failed' | 'skipped' | 'timeout';
  readonly error?: string;
  readonly metrics: Record<string, number | null>;
  readonly metricsHash?: string;
  readonly wallMs: number;
  /** Plugins of the cell, with what each touches (see PluginFootprint). */
  readonly plugins: Record<string, PluginFootprint>;
}

/** What a plugin touches that another plugin may touch too. */
export interface PluginFootprint {
  readonly hooks: string[];
  readonly writes: string[];
  readonly reads?: string[];
  /** Services its hook handlers resolved, as `name@owner` (owner: a plugin id or core). */
  readonly services?: string[];
}

/** Is this axis a capability choice (placement: [first-fit, worst-fit])? */
export function isCapabilityAxis(name: string, catalog: PluginCatalog): boolean {
  return name in CAPABILITIES || catalog.providersOf(name).length > 0;
}

/**
 * The overrides and seed that apply a cell's assignment to its scenario. Each names
 * where it comes from (the matrix file, its `set:` entry or axis, and the cell), so
 * that a value the loader refuses is blamed on the matrix, not on the command line.
 */
export function cellOverrides(cell: Cell): { set: Override[]; seed?: number } {
  const origin = (what: string) => (cell.matrix === undefined ? undefined : { source: cell.matrix, argument: `${what} (cell ${cell.label})` });
  const set: Override[] = Object.entries(cell.scenarioSet).map(([path, value]) => ({ path, value, origin: origin(`scenarios.${cell.scenarioIndex ?? 0}.set ${path}: ${JSON.stringify(value)}`) }));
  const optionSets: Override[] = [];
  let seed: number | undefined;
  // The scenario as the loader opens it; its catalog counts the plugins of the
  // scenario's own plugin folders too, so their capabilities are axes as well.
  const { doc: opened, catalog } = openScenarioFile(cell.scenario);
  const doc = opened.data;
  const listed = new Set(Object.keys((doc.plugins as Record<string, unknown> | undefined) ?? {}));
  const without = new Set<string>((doc.without as string[] | undefined) ?? []);
  let withoutChanged = false;
  for (const [axis, value] of Object.entries(cell.assignment)) {
    const from = origin(`axis ${axis}: ${JSON.stringify(value)}`);
    if (axis === 'seed') seed = Number(value);
    else if (isCapabilityAxis(axis, catalog)) {
      // Take out every provider of the capability the scenario lists, then add the choice.
      for (const id of catalog.providersOf(axis)) {
        if (!listed.delete(id)) continue;
        set.push({ path: `plugins.${id}`, remove: true, origin: from });
      }
      withoutChanged = true;
      if (value === 'none' || value === null) {
        for (const id of catalog.providersOf(axis)) without.add(id);
      } else {
        // A value names a provider: its full id, `<axis>.<value>`, or the provider of the
        // capability whose id ends in `.<value>` (migration.controller: adamig).
        const v = String(value);
        const id = v.includes('.') ? v : catalog.get(`${axis}.${v}`) ? `${axis}.${v}` : (catalog.providersOf(axis).find((p) => p.endsWith(`.${v}`)) ?? `${axis}.${v}`);
        try {
          catalog.require(id);
        } catch (e) {
          // A provider that does not exist is a mistake in the matrix file, not a combination to skip.
          if (e instanceof RegistryError && from) throw new CommandLineError(from.argument, '', e.message, e.hint, from.source);
          throw e;
        }
        set.push({ path: `plugins.${id}`, value: {}, origin: from });
        listed.add(id);
      }
    } else optionSets.push({ path: axis, value, origin: from });
  }
  if (withoutChanged) {
    const preset = PRESETS[(doc.preset as keyof typeof PRESETS | undefined) ?? 'default'] ?? [];
    set.push({ path: 'without', value: [...without].filter((id) => preset.includes(id)).sort(), origin: origin('capability axes') });
  }
  // Option values go last, so that a replaced plugin does not drop them.
  return { set: [...set, ...optionSets], seed };
}

/**
 * Loads each cell's scenario with its overrides, as its run would, and throws the first
 * refusal: a value the scenario's or a plugin's schema refuses (in an axis or a `set:`
 * entry) is bad input that the matrix file must fix, so the matrix stops before it runs
 * anything (exit 2) rather than reporting failed cells (exit 1). Loading costs
 * milliseconds per cell; booting, which can refuse a combination, is left to the run.
 */
export function checkCellInputs(cells: readonly Cell[]): void {
  for (const cell of cells) {
    try {
      loadScenarioFile(cell.scenario, cellOverrides(cell));
    } catch (e) {
      if (e instanceof ScenarioError || e instanceof PluginOptionError) throw e;
      // Anything else (a plugin folder that fails to load) is the cell's to report.
    }
  }
}

/**
 * Runs a cell in this thread; it times out after `timeoutMs` of wall-clock time.
 * With `bootOnly` it stops after boot: enough to learn which hooks and components the
 * plugins touch (`virtlab matrix --coverage`), at a fraction of a run's cost.
 */
export async function runCell(cell: Cell, metricNames: readonly string[], timeoutMs: number, bootOnly = false): Promise<CellResult> {
  const t0 = performance.now();
  const base = { id: cell.id, key: cell.key, label: cell.label, assignment: cell.assignment };
  let sim: Simulation;
  let uses: ServiceUses;
  try {
    const overrides = cellOverrides(cell);
    const { scenario, catalog: cat, files } = loadScenarioFile(cell.scenario, overrides);
    // The same work budget as `virtlab run` (a matrix has no --force): refused before boot.
    const work = estimateWork(scenario);
    if (work.work > limits.WORK_BUDGET) throw new Error(`${work.ticks.toExponential(2)} ticks × ${work.entities + 1} entities is ${work.work.toExponential(2)} entity-ticks; the budget is ${limits.WORK_BUDGET.toExponential(0)}`);
    sim = new Simulation({ scenario, catalog: cat, files });
    uses = watchServices(sim);
    await sim.boot();
  } catch (e) {
    // A refusal of the combination (conflict, missing requirement, two providers of an
    // exclusive capability) skips the cell; a plugin that crashes while loading or
    // registering (a RegistryError with a cause, or a load failure) is a failure.
    const skipped = e instanceof RegistryError && !(e as { cause?: unknown }).cause && !/ failed to load from /.test(e.message);
    const hint = (e as RegistryError).hint;
    const msg = `${(e as Error).message}${hint && !(e as Error).message.includes(hint) ? ` (${hint})` : ''}`;
    return { ...base, status: skipped ? 'skipped' : 'failed', error: msg, metrics: {}, wallMs: performance.now() - t0, plugins: {} };
  }
  if (bootOnly) return { ...base, status: 'ok', metrics: {}, wallMs: performance.now() - t0, plugins: interactions(sim, uses) };
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
      return { ...base, status: 'timeout', error: `timed out after ${timeoutMs} ms at tick ${sim.tick} of ${sim.totalTicks}`, metrics: {}, wallMs: performance.now() - t0, plugins: interactions(sim, uses) };
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
      plugins: interactions(sim, uses),
    };
  } catch (e) {
    return { ...base, status: 'failed', error: (e as Error).stack ?? String(e), metrics: {}, wallMs: performance.now() - t0, plugins: interactions(sim, uses) };
  }
}

/** The plugin a tap belongs to, by its name: `<id>`, `<id>-…` or `<id>/…`. */
function tapOwner(ids: readonly string[], tapName: string): string | undefined {
  return ids.filter((id) => tapName === id || tapName.startsWith(`${id}-`) || tapName.startsWith(`${id}/`)).sort((a, b) => b.length - a.length)[0];
}

/** Per plugin, the services (`name@owner`) its hook handlers resolved. */
export type ServiceUses = Map<string, Set<string>>;

/**
 * Watches which services each plugin's hook handlers resolve: most plugins that
 * change one another's behaviour do it through a service (an add-on tunes the
 * migration engine at boot), not through a shared hook. Handlers are wrapped as they
 * are tapped, so that a resolution can be attributed to the plugin whose handler is
 * running. Must be called before boot.
 */
function watchServices(sim: Simulation): ServiceUses {
  const uses: ServiceUses = new Map();
  let running: string | undefined;
  // The container's owner lookup is not part of the public API; coverage degrades to
  // "owner unknown" rather than failing if it moves.
  const container = (sim as unknown as { container?: { ownerOf?: (t: ServiceToken<unknown>) => string | undefined } }).container;
  const services = sim.services as { get: <T>(t: ServiceToken<T>) => T; tryGet: <T>(t: ServiceToken<T>) => T | undefined };
  const record = (t: ServiceToken<unknown>) => {
    if (!running) return;
    const owner = container?.ownerOf?.(t) ?? 'unknown';
    if (owner === running) return;
    const set = uses.get(running) ?? new Set<string>();
    set.add(`${t.name}@${owner}`);
    uses.set(running, set);
  };
  const get = services.get;
  const tryGet = services.tryGet;
  services.get = (t) => (record(t), get(t));
  services.tryGet = (t) => (record(t), tryGet(t));
  for (const record of Object.values(sim.hooks)) {
    for (const hook of Object.values(record as unknown as Record<string, { intercept: (i: { register: (tap: { name: string; fn: (...a: unknown[]) => unknown }) => unknown }) => void }>)) {
      hook.intercept({
        register(tap) {
          const id = tapOwner(
            sim.selectedPlugins.map((p) => p.id),
            tap.name,
          );
          if (!id) return tap;
          const fn = tap.fn;
          return {
            ...tap,
            fn: (...args: unknown[]) => {
              const outer = running;
              running = id;
              try {
                return fn(...args);
              } finally {
                running = outer;
              }
            },
          };
        },
      });
    }
  }
  return uses;
}

/**
 * Which hooks each selected plugin tapped and which components its systems write and
 * read. Taps are attributed by name: plugins tap under their id (`placement.first-fit`,
 * `trace.events-finish`, `workload.synthetic/boot`), as the hooks' contract asks.
 */
export function interactions(sim: Simulation, uses: ServiceUses = new Map()): Record<string, PluginFootprint> {
  const out: Record<string, { hooks: string[]; writes: string[]; reads: string[]; services: string[] }> = {};
  const ids = sim.selectedPlugins.map((p) => p.id);
  for (const id of ids) out[id] = { hooks: [], writes: [], reads: [], services: [...(uses.get(id) ?? [])].sort() };
  const owner = (tapName: string) => tapOwner(ids, tapName);
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
    for (const c of s.reads ?? []) if (!out[s.owner].reads.includes(c.name)) out[s.owner].reads.push(c.name);
  }
  for (const v of Object.values(out)) {
    v.hooks.sort();
    v.writes.sort();
    v.reads.sort();
  }
  return out;
}
