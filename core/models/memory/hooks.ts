// The memory-virtualization hooks (hooks.memory): TLB misses, walks, faults,
// page-table writes, flushes, root switches, privilege changes and VM exits. MMU strategies (mmu.ts and
// the strategies) and the guest kernel fire them; core/hooks.ts puts the group in the
// record. They fire on events, never per access.

import { SyncBailHook, SyncHook } from 'tapable';

export interface TlbMissEvent {
  readonly vcpu: number;
  readonly va: number;
  readonly asid: number;
  readonly level: number;
}

export interface PageWalkEvent {
  readonly vcpu: number;
  readonly va: number;
  /** Memory references the walk made. */
  readonly references: number;
  readonly cycles: number;
}

export interface PageFaultEvent {
  readonly vcpu: number;
  readonly va: number;
  readonly access: 'read' | 'write' | 'execute';
  /** 'guest' for a fault the guest kernel handles, 'hidden' for one the hypervisor hides. */
  readonly kind: 'guest' | 'hidden';
}

export interface PtWriteEvent {
  readonly vm: number;
  /** Guest-physical address of the written page-table entry. */
  readonly gpa: number;
  readonly level: number;
}

export interface TlbFlushEvent {
  readonly vcpu: number;
  /** Virtual address flushed, or -1 for all addresses. */
  readonly va: number;
  /** Address-space id flushed, or -1 for all. */
  readonly asid: number;
}

export interface RootSwitchEvent {
  readonly vcpu: number;
  readonly oldRoot: number;
  readonly newRoot: number;
}

export interface PrivilegeSwitchEvent {
  readonly vcpu: number;
  /** Privilege before and after: 0 user, 1 supervisor, 2 supervisor with user memory accessible. */
  readonly from: number;
  readonly to: number;
}

export interface VmExitEvent {
  readonly vcpu: number;
  readonly vm: number;
  readonly cause: string;
  readonly cycles: number;
}

export function createMemoryHooks() {
  return Object.freeze({
    /** A TLB lookup missed at the given level. */
    tlbMiss: new SyncHook<[TlbMissEvent]>(['event']),
    /** A page walk completed, with its references and cycles. */
    pageWalk: new SyncHook<[PageWalkEvent]>(['event']),
    /**
     * A page fault was raised. Returning `true` says a handler resolved it (the
     * access is retried); `undefined` passes it to the guest kernel.
     */
    pageFault: new SyncBailHook<[PageFaultEvent], boolean | undefined>(['event']),
    /** The guest wrote a page-table entry (seen only where writes are tracked). */
    ptWrite: new SyncHook<[PtWriteEvent]>(['event']),
    /** The guest flushed TLB entries (sfence.vma, invlpg, a full flush). */
    tlbFlush: new SyncHook<[TlbFlushEvent]>(['event']),
    /** The guest switched page-table root (satp or CR3 write). */
    rootSwitch: new SyncHook<[RootSwitchEvent]>(['event']),
    /** The guest changed privilege (kernel entry or return, user-memory access opened or closed). */
    privilegeSwitch: new SyncHook<[PrivilegeSwitchEvent]>(['event']),
    /** A VM exit to the hypervisor, with its cause and cost. */
    vmExit: new SyncHook<[VmExitEvent]>(['event']),
  });
}

export type MemoryHooks = ReturnType<typeof createMemoryHooks>;

declare module '../../engine/hooks' {
  interface Hooks {
    /** Memory virtualization. */
    readonly memory: MemoryHooks;
  }
}
