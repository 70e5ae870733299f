// The comparison grid with SimGrid 3.32's pre-copy model (Hirofuchi et al.), run
// through virtlab: RAM 1/4/16 GiB × migration speed 1/10 Gbit/s × dirty intensity
// 0/20/50/80/95% of the migration speed. virtlab runs under SimGrid's assumptions:
// `rules: simgrid` on the migration method (every page sent in full, no round limit),
// a sequential writer over 0.9 of RAM (so the pages dirtied in a round are
// min(writes, working set), SimGrid's byte model) whose writes arrive as a fluid (no
// Poisson noise: SimGrid's dirtying is deterministic), and SimGrid's 30 ms downtime
// limit.
// The same grid runs through SimGrid in driver.cpp; simgrid-grid.json is its recorded
// output, which the test compares against without SimGrid installed.
//
// One simulation per migration speed: each case is a VM on a host of its own that
// migrates to another empty host of the same rack at the start, so the cases share no
// link and run side by side. Time advances from event to event. For speed figures,
// `repeats` > 1 makes every VM migrate back and forth that many times in all
// (bench.migrate-back), as the SimGrid driver does with the same argument.

import { DatacenterToken, MigrationService, scenario, Vm, type Simulation } from 'virtlab';
import { bootText } from '../node/testing';

export const RAM_GIB = [1, 4, 16] as const;
export const SPEED_GBPS = [1, 10] as const;
export const INTENSITY = [0, 0.2, 0.5, 0.8, 0.95] as const;
/** SimGrid's default downtime limit (max_downtime), ns. */
export const DOWNTIME_LIMIT_NS = 30e6;
export const PAGE_SIZE = 4096;
/** One-way latency of the path between two hosts of a rack (two 2 µs NICs and a switch), ns. */
export const PATH_LATENCY_NS = 4500;

export interface GridCase {
  readonly ramGiB: number;
  readonly gbps: number;
  readonly intensity: number;
}

export interface GridResult extends GridCase {
  /** Whether the migration completed. */
  readonly converged: boolean;
  /** Migration time, s. */
  readonly timeS: number;
  /** Pre-copy rounds, the first full copy included and the stop-and-copy not. */
  readonly rounds: number;
  /** Downtime, ms. */
  readonly downtimeMs: number;
}

export function gridCases(): GridCase[] {
  const out: GridCase[] = [];
  for (const ramGiB of RAM_GIB) for (const gbps of SPEED_GBPS) for (const intensity of INTENSITY) out.push({ ramGiB, gbps, intensity });
  return out;
}

/** Simulated time that covers the slowest case: its full copy, then rounds shrinking by the intensity. */
function horizonNs(cases: readonly GridCase[]): number {
  let s = 0;
  for (const c of cases) {
    const copy = (c.ramGiB * 2 ** 30 * 8) / (c.gbps * 1e9);
    s = Math.max(s, copy * (1 + 0.9 / (1 - c.intensity)) * 1.2 + 10);
  }
  return Math.ceil(s) * 1e9;
}

/** The scenario of the cases at one migration speed. */
export function gridScenario(gbps: number, tick: string, advance: 'tick' | 'event' = 'event', repeats = 1) {
  const cases = gridCases().filter((c) => c.gbps === gbps);
  const bps = gbps * 1e9;
  const duration = horizonNs(cases) * repeats;
  const builder = scenario(`simgrid-grid-${gbps}g`)
  const built = builder
      .description(`SimGrid 3.32 comparison grid at ${gbps} Gbit/s`)
      .tick(tick)
      .advance(advance)
      .duration(duration)
      .preset('headless')
      .hosts({ name: 'pm', profile: 'x86-64-server', racks: 1, perRack: cases.length * 2 })
      .vms(
        ...cases.map((c, i) => ({
          name: `case-${i}`,
          count: 1,
          vcpus: 1,
          memory: c.ramGiB * 2 ** 30,
          workload: {
            kind: 'synthetic',
            distribution: 'sequential',
            workingSet: Math.floor(c.ramGiB * 2 ** 30 * 0.9),
            writesPerSecond: (c.intensity * bps) / 8 / PAGE_SIZE,
            readsPerSecond: 0,
            cpu: 1,
          },
        })),
      )
      .plugin('workload.synthetic', { arrivals: 'fluid' })
      .plugin('placement.worst-fit', {})
      .plugin('migration.precopy', { bandwidth: bps, downtimeLimit: DOWNTIME_LIMIT_NS, rules: 'simgrid', deadline: 1e16, zeroPageBytes: PAGE_SIZE })
      .record({ every: duration });
  return { cases, builder: repeats > 1 ? built.plugin('bench.migrate-back', { migrations: repeats }) : built };
}

/** Starts every case's migration once the VMs are placed; returns the simulation ready to run. */
export async function bootGrid(gbps: number, tick: string, advance: 'tick' | 'event' = 'event', repeats = 1): Promise<{ sim: Simulation; cases: GridCase[] }> {
  const { cases, builder } = gridScenario(gbps, tick, advance, repeats);
  const sim = await bootText(builder);
  sim.step();
  const dc = sim.services.get(DatacenterToken);
  const V = sim.world.store(Vm);
  const used = new Set(dc.vms.map((v) => V.host[v]));
  const free = dc.hosts.filter((h) => !used.has(h));
  const engine = sim.services.get(MigrationService);
  dc.vms.forEach((vm, i) => engine.request(vm, free[i]));
  return { sim, cases };
}

export interface GridRun {
  /** Each case's first migration. */
  readonly results: GridResult[];
  /** Migrations completed in all (repeats included). */
  readonly migrations: number;
  /** Wall and CPU time of booting and running the simulations, s. */
  readonly wallS: number;
  readonly cpuS: number;
}

/** Runs the grid through virtlab at a given tick; `repeats` as in the header. */
export async function runVirtlabGrid(tick = '10ms', advance: 'tick' | 'event' = 'event', repeats = 1): Promise<GridRun> {
  const out: GridResult[] = [];
  let migrations = 0;
  let wallS = 0;
  let cpuS = 0;
  for (const gbps of SPEED_GBPS) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const { sim, cases } = await bootGrid(gbps, tick, advance, repeats);
    sim.run();
    wallS += (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    cpuS += (c.user + c.system) / 1e6;
    const records = sim.services.get(MigrationService).all();
    migrations += records.filter((r) => r.success).length;
    cases.forEach((c, i) => {
      const r = records[i];
      out.push({
        ...c,
        converged: r.success === true,
        timeS: r.endNs >= 0 ? (r.endNs - r.startNs) / 1e9 : NaN,
        rounds: r.rounds.length,
        downtimeMs: r.downtimeNs / 1e6,
      });
    });
  }
  return { results: out, migrations, wallS, cpuS };
}
