// Messages between the visualizer page and its simulation worker. A frame carries
// typed arrays (one entry per VM, host or link), never one object per VM, and they
// are transferred, not copied: the page hands each frame's arrays back once a newer
// frame has replaced it, so the worker refills the same memory instead of allocating.

/** Link kinds, for the `Topology.kind` names 'nic-up', 'nic-down', 'rack-up', 'rack-down'. */
export const LinkKind = { NIC_UP: 0, NIC_DOWN: 1, RACK_UP: 2, RACK_DOWN: 3 } as const;
export const LINK_KIND_BY_NAME: Readonly<Record<string, number>> = { 'nic-up': LinkKind.NIC_UP, 'nic-down': LinkKind.NIC_DOWN, 'rack-up': LinkKind.RACK_UP, 'rack-down': LinkKind.RACK_DOWN };

export interface Layout {
  readonly racks: number;
  /** Per host: rack and slot. */
  readonly hostRack: Int32Array;
  readonly hostSlot: Int32Array;
  readonly hostCores: Float32Array;
  /** Per directed link of the network model: its kind (a LinkKind) and the host or rack it belongs to. */
  readonly linkKind: Uint8Array;
  readonly linkOwner: Int32Array;
  readonly vmNames: string[];
  /** Per VM: its workload as the scenario writes it ("synthetic, uniform, 1,000 writes/s …"), or "idle". */
  readonly vmWorkload: string[];
  /** Per host: its name, rack and slot ("rack0/host1"). */
  readonly hostNames: string[];
  /** The metrics the scenario records as time series (record.series), charted beside the scene. */
  readonly series: string[];
  readonly plugins: string[];
  readonly durationNs: number;
  readonly tickNs: number;
  /** The scenario's sampling interval (record.every): gauges have no value before the first sample. */
  readonly sampleNs: number;
  /** The worker runs the scenario ahead to its end (small enough to run twice) and posts every marker it finds. */
  readonly runsAhead: boolean;
}

/** Offsets of the fields of one migration in progress in `Frame.migrations`, MIGRATION_STRIDE numbers each. */
export const Mig = {
  ID: 0,
  VM: 1,
  SRC: 2,
  DST: 3,
  /** Round, counting from 1. */
  ROUND: 4,
  /** Share of the current transfer (a pre-copy round, the stop-and-copy, the post-copy push) delivered, 0..1. */
  TRIP: 5,
  /** Bytes sent by finished rounds over the VM's memory, 0..1. */
  SENT: 6,
  /** A MigPhase. */
  PHASE: 7,
  /** The links of the migration's network path, in order; −1 past its end. */
  LINKS: 8,
} as const;
export const MIG_MAX_LINKS = 4;
export const MIGRATION_STRIDE = Mig.LINKS + MIG_MAX_LINKS;
export const MigPhase = { PRECOPY: 0, STOP_AND_COPY: 1, POSTCOPY: 2 } as const;

/** The typed arrays of a frame: allocated by the worker, lent to the page, handed back. */
export interface FrameBuffers {
  /** Per VM: host index (−1 when not placed). */
  readonly vmHost: Int32Array;
  /** Per VM: the colour metric, normalised to [0, 1]. */
  readonly vmValue: Float32Array;
  /** Per VM: 1 while it migrates. */
  readonly vmMigrating: Uint8Array;
  /** Per host: CPU load, 0..1 or more when overcommitted. */
  readonly hostLoad: Float32Array;
  /** Per host, NIC_STRIDE numbers (a Nic): transmit queue, receive ring, frames per second; NaN on hosts without packet experiments. */
  readonly hostNic: Float32Array;
  /** Per host: busy fraction of its GPUs over the last step, 0..1; −1 for a host without GPUs. */
  readonly hostGpu: Float32Array;
  /** Per link: bytes carried since the previous frame over what the link could carry in that time. */
  readonly linkUtil: Float32Array;
  /** Migrations in progress, MIGRATION_STRIDE numbers each; `migrationCount` are valid. */
  readonly migrations: Float64Array;
}

/** What a timeline marker stands for. */
export type MarkKind = 'migration' | 'migration-end' | 'switch' | 'fault' | 'expect-pass' | 'expect-fail';

/** A moment worth a marker on the timeline: a migration starting or ending, a method switch, a failure, an expectation's result. */
export interface Mark {
  readonly timeNs: number;
  readonly kind: MarkKind;
  readonly text: string;
  /** The VM it concerns (index), or −1. */
  readonly vm: number;
}

/** The numbers of the VM colour scale: the value at the top of the scale (the bottom is 0) and its unit. */
export interface Scale {
  readonly max: number;
  readonly unit: string;
  readonly label: string;
}

/** A decision of a migration controller (the `migration.methodSwitch` hook), shown where the VM is. */
export interface MethodSwitch {
  /** VM index. */
  readonly vm: number;
  readonly to: string;
  readonly reason: string;
  readonly timeNs: number;
}

export interface Frame extends FrameBuffers {
  readonly tick: number;
  readonly timeNs: number;
  readonly migrationCount: number;
  /** Some VM's host differs from the previous frame's (or this is the first frame). */
  readonly placementChanged: boolean;
  readonly switches: MethodSwitch[];
  readonly events: string[];
  readonly marks: Mark[];
  /** What the VM colours mean in this frame. */
  readonly scale: Scale;
  /** Present when the page asked for them (the HUD refreshes a few times a second). */
  readonly metrics?: Array<[string, number, string]>;
  /** Worker wall time spent stepping the simulation and building this frame, ms. */
  readonly stepMs: number;
  readonly buildMs: number;
  readonly ticksRun: number;
  readonly done: boolean;
}

/** What colours a VM: CPU demand, dirty pages, estimated working set (over its memory), or the estimate's error against wss.truth. */
export type Metric = 'cpu' | 'dirty' | 'wss' | 'wss-error';

export type ToWorker =
  | { type: 'start'; text: string; file: string; set?: Array<{ path: string; value: unknown }> }
  | { type: 'run'; ticks: number; metric: Metric; metrics: boolean }
  | { type: 'seek'; tick: number; metric: Metric }
  | { type: 'recycle'; buffers: FrameBuffers };

export type FromWorker =
  | { type: 'layout'; layout: Layout }
  | { type: 'frame'; frame: Frame }
  /** Markers found by running ahead, up to `throughNs`; `complete` once the run ahead reached the end. */
  | { type: 'marks'; marks: Mark[]; throughNs: number; complete: boolean }
  | { type: 'error'; message: string };

/** Offsets of a host's NIC numbers in `FrameBuffers.hostNic`. */
export const NicField = { TX_QUEUE: 0, RX_RING: 1, FRAMES_PER_S: 2 } as const;
export const NIC_STRIDE = 3;

/** The transferable memory of a frame's arrays. */
export function transferables(b: FrameBuffers): ArrayBuffer[] {
  return [b.vmHost.buffer, b.vmValue.buffer, b.vmMigrating.buffer, b.hostLoad.buffer, b.hostNic.buffer, b.hostGpu.buffer, b.linkUtil.buffer, b.migrations.buffer] as ArrayBuffer[];
}
