// The packet-level network's hooks (hooks.packets): a packet experiment starting and
// ending. The plugin that runs packet workloads fires them (workload.netperf);
// core/hooks.ts puts the group in the record.

import { SyncHook } from 'tapable';
import type { ExperimentResults } from './experiment';

export interface PacketExperimentEvent {
  /** The client VM entity. */
  readonly vm: number;
  /** Host entities of the client and the server. */
  readonly client: number;
  readonly server: number;
  /** Workload kind (tcp-stream, tcp-rr, http). */
  readonly kind: string;
  /** Id of the netstack personality. */
  readonly personality: string;
  readonly timeNs: number;
}

export interface PacketExperimentEndEvent extends PacketExperimentEvent {
  readonly results: ExperimentResults;
}

export function createPacketHooks() {
  return Object.freeze({
    /** A packet experiment started: its first event (the client's connect) is queued. */
    experimentStarted: new SyncHook<[PacketExperimentEvent]>(['event']),
    /** A packet experiment ended (its duration elapsed, or the run finished) with its counted results. */
    experimentFinished: new SyncHook<[PacketExperimentEndEvent]>(['event']),
  });
}

export type PacketHooks = ReturnType<typeof createPacketHooks>;

declare module '../../engine/hooks' {
  interface Hooks {
    /** Packet-level experiments (TCP over NICs and links). */
    readonly packets: PacketHooks;
  }
}
