// The network's hooks (hooks.network): flows starting and finishing. The Network
// model (network.ts) fires them; core/hooks.ts puts the group in the record.

import { SyncHook } from 'tapable';

export interface FlowEvent {
  readonly flow: number;
  readonly src: number;
  readonly dst: number;
  readonly bytes: number;
  readonly timeNs: number;
  readonly tag: string;
}

export function createNetworkHooks() {
  return Object.freeze({
    /** A flow started on the network. */
    flowStarted: new SyncHook<[FlowEvent]>(['event']),
    /** A flow delivered its last byte. */
    flowFinished: new SyncHook<[FlowEvent]>(['event']),
  });
}

export type NetworkHooks = ReturnType<typeof createNetworkHooks>;

declare module '../../engine/hooks' {
  interface Hooks {
    /** Flows on the datacenter network. */
    readonly network: NetworkHooks;
  }
}
