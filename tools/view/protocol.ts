// Messages between the visualizer page and its simulation worker. Frames carry typed
// arrays (one entry per host or VM), never one object per VM.

export interface Layout {
  readonly racks: number;
  /** Per host: rack and slot. */
  readonly hostRack: Int32Array;
  readonly hostSlot: Int32Array;
  readonly hostCores: Float32Array;
  readonly vmNames: string[];
  readonly plugins: string[];
  readonly durationNs: number;
  readonly tickNs: number;
}

export interface Frame {
  readonly tick: number;
  readonly timeNs: number;
  /** Per VM: host index (−1 when not placed). */
  readonly vmHost: Int32Array;
  /** Per VM: the colour metric, normalised to [0, 1]. */
  readonly vmValue: Float32Array;
  readonly vmMigrating: Uint8Array;
  /** Per VM: round of its migration in progress (0 when none), and the share sent. */
  readonly vmRound: Int16Array;
  readonly vmProgress: Float32Array;
  readonly hostLoad: Float32Array;
  /** Per rack: utilization of its uplink (the busier direction), allocated over capacity. */
  readonly rackLinks: Float32Array;
  readonly events: string[];
  readonly metrics: Array<[string, number, string]>;
  readonly done: boolean;
}

export type ToWorker =
  | { type: 'start'; text: string; file: string; set?: Array<{ path: string; value: unknown }> }
  | { type: 'run'; ticks: number; metric: 'cpu' | 'dirty' }
  | { type: 'seek'; tick: number; metric: 'cpu' | 'dirty' };

export type FromWorker = { type: 'layout'; layout: Layout } | { type: 'frame'; frame: Frame } | { type: 'error'; message: string };
