// The documented limits of a scenario, and the estimate of a run's work. Each limit
// protects memory or time against input that would otherwise hang or grow without
// bound; the loader refuses beyond them before anything is allocated, with a one-line
// message that names the input and the limit. The README's "Limits" section lists them.
//
// The sizes come from the engine's cost per entity: a host costs about 350 bytes of
// component stores and a VM about 650 (measured on 10^5 of each), so the entity caps
// keep a world under about a gigabyte.

/** Largest scenario (or config.json) file read, in bytes. */
export const MAX_SCENARIO_BYTES = 8 * 1024 * 1024;
/** Most host groups, and most VM groups, in one scenario. */
export const MAX_GROUPS = 10_000;
/** Most hosts in one scenario (all groups: racks × perRack summed). */
export const MAX_HOSTS = 1_000_000;
/** Most VMs in one scenario (all groups' counts summed). */
export const MAX_VMS = 1_000_000;
/** Most samples of the time series (duration / record.every). */
export const MAX_SAMPLES = 1_000_000;
/** How far past the end of a list `--set` may write: only the next index (an append). */
export const MAX_SET_INDEX_GAP = 0;
/**
 * Work a run may do without `--force`, in entity-ticks: ticks × (hosts + VMs + 1).
 * The demo scenario is 2·10^4; 10^6 VMs for an hour of 1 s ticks is 3.6·10^9.
 */
export const WORK_BUDGET = 1e10;
/** Largest host file handed to a guest (`files:`, `exec --mount`) or run as a guest program, in bytes. */
export const MAX_HOST_FILE_BYTES = 256 * 1024 * 1024;
/** Most cells a matrix may expand to. */
export const MAX_MATRIX_CELLS = 100_000;

/** The work of a run, estimated before boot from its size alone. */
export interface WorkEstimate {
  readonly ticks: number;
  readonly entities: number;
  /** ticks × (entities + 1), in entity-ticks. */
  readonly work: number;
}

/** Estimates a run's work from the scenario's tick, duration, hosts and VMs. */
export function estimateWork(s: {
  readonly tick: number;
  readonly duration: number;
  readonly hosts: ReadonlyArray<{ readonly racks: number; readonly perRack: number }>;
  readonly vms: ReadonlyArray<{ readonly count: number }>;
}): WorkEstimate {
  const ticks = Math.ceil(s.duration / s.tick);
  const entities = s.hosts.reduce((n, h) => n + h.racks * h.perRack, 0) + s.vms.reduce((n, v) => n + v.count, 0);
  return { ticks, entities, work: ticks * (entities + 1) };
}
