// The datacenter's hooks (hooks.datacenter): where VMs are placed. The Datacenter
// model (datacenter.ts) fires them; core/hooks.ts puts the group in the record.

import { SyncHook } from 'tapable';

export interface VmPlacedEvent {
  readonly vm: number;
  readonly host: number;
  readonly timeNs: number;
}

export interface PlacementFailedEvent {
  readonly vm: number;
  readonly reason: string;
  readonly timeNs: number;
}

export function createDatacenterHooks() {
  return Object.freeze({
    /** A VM was placed on a host (at boot, on arrival, or after a migration). */
    vmPlaced: new SyncHook<[VmPlacedEvent]>(['event']),
    /** No host could take a VM; it stays pending and is retried next tick. */
    placementFailed: new SyncHook<[PlacementFailedEvent]>(['event']),
  });
}

export type DatacenterHooks = ReturnType<typeof createDatacenterHooks>;

declare module '../../engine/hooks' {
  interface Hooks {
    /** Placement of VMs on hosts. */
    readonly datacenter: DatacenterHooks;
  }
}
