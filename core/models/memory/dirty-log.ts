// The contract between the memory model and the dirty/reference-logging plugins
// (plugins/dirty-log/*, plugins/wss/*, the overcommitment policy): the accessed and
// dirty bits of a VM's EPT leaf entries, the page-granular access stream a plugin asks
// for, the cost of clearing bits and invalidating the VM's cached translations
// (INVEPT), the DirtyLog service that migration.precopy reads its dirty pages from,
// and the registry through which working-set estimators publish their estimates.
//
// Nothing here logs anything: the mechanisms (write-protection faults, Intel's PML,
// the paper's PRL, statistical sampling) are plugins. The core only says where the
// bits live and what touching and clearing them means. Per-page state is typed
// arrays; the stream is handed over one batch per workload step, never per access.

import { token } from '../../engine/tokens';

/** What one access did to a page's EPT entry (bit flags). */
export const ACCESS_SET = 1;
export const DIRTY_SET = 2;

/**
 * The A and D bits of a VM's EPT leaf entries, one bit per guest-physical page.
 * The processor sets A on the first access to a page after it was cleared and D on
 * the first write; these are the 0→1 transitions that PML and PRL log. An EPT entry
 * packs a frame and four permission flags (paging.ts), so the two bits are kept
 * beside the table, indexed by guest frame, as a hypervisor reading them sees them.
 */
export class EptAccessBits {
  readonly accessed: Uint32Array;
  readonly dirty: Uint32Array;
  accessedCount = 0;
  dirtyCount = 0;

  constructor(readonly pages: number) {
    const words = Math.ceil(pages / 32);
    this.accessed = new Uint32Array(words);
    this.dirty = new Uint32Array(words);
  }

  /** Sets the bits an access sets; returns which of them went from 0 to 1 (ACCESS_SET | DIRTY_SET). */
  touch(page: number, write: boolean): number {
    const w = page >>> 5;
    const bit = 1 << (page & 31);
    let set = 0;
    if (!(this.accessed[w] & bit)) {
      this.accessed[w] |= bit;
      this.accessedCount++;
      set = ACCESS_SET;
    }
    if (write && !(this.dirty[w] & bit)) {
      this.dirty[w] |= bit;
      this.dirtyCount++;
      set |= DIRTY_SET;
    }
    return set;
  }

  isDirty(page: number): boolean {
    return (this.dirty[page >>> 5] & (1 << (page & 31))) !== 0;
  }

  isAccessed(page: number): boolean {
    return (this.accessed[page >>> 5] & (1 << (page & 31))) !== 0;
  }

  /** Clears the D bits of the listed pages; returns the entries written (pages whose D bit was set). */
  clearDirty(pages: ArrayLike<number>, count = pages.length): number {
    let written = 0;
    for (let i = 0; i < count; i++) {
      const p = pages[i];
      const w = p >>> 5;
      const bit = 1 << (p & 31);
      if (this.dirty[w] & bit) {
        this.dirty[w] &= ~bit;
        this.dirtyCount--;
        written++;
      }
    }
    return written;
  }

  /** Clears the A (and D) bits of the listed pages; returns the entries written. */
  clearAccessed(pages: ArrayLike<number>, count = pages.length): number {
    let written = 0;
    for (let i = 0; i < count; i++) {
      const p = pages[i];
      const w = p >>> 5;
      const bit = 1 << (p & 31);
      let changed = false;
      if (this.accessed[w] & bit) {
        this.accessed[w] &= ~bit;
        this.accessedCount--;
        changed = true;
      }
      if (this.dirty[w] & bit) {
        this.dirty[w] &= ~bit;
        this.dirtyCount--;
        changed = true;
      }
      if (changed) written++;
    }
    return written;
  }
}

/**
 * What clearing A/D bits (or write-protecting entries) costs a hypervisor: each entry
 * written, then one INVEPT that empties the VM's cached translations, delivered to
 * every vCPU (an IPI and a VM exit each), after which the vCPUs refill their TLBs.
 */
export interface InvalidationCost {
  /** Hypervisor time per EPT entry written, ns. */
  readonly entryNs: number;
  /** Time a vCPU loses to one INVEPT: the kick, the exit, the flush and the refill of its TLB, ns. */
  readonly inveptNs: number;
}

/** The hypervisor time of clearing `entries` entries, and each vCPU's stall for the INVEPT that follows. */
export function invalidation(cost: InvalidationCost, entries: number): { hypervisorNs: number; vcpuStallNs: number } {
  return { hypervisorNs: entries * cost.entryNs, vcpuStallNs: entries > 0 ? cost.inveptNs : 0 };
}

/**
 * One step's page accesses of one VM, in the order the workload made them: page
 * numbers (guest frames) and whether each was a write. Valid during the call only.
 */
export interface PageAccessBatch {
  readonly vm: number;
  readonly count: number;
  readonly pages: Uint32Array;
  readonly writes: Uint8Array;
  /** The vCPU that made each access (accesses are spread over the VM's vCPUs). */
  readonly vcpus: Uint16Array;
  readonly vcpuCount: number;
  readonly startNs: number;
  readonly endNs: number;
}

/**
 * A consumer of a VM's access stream. It returns the time the VM's vCPUs lost to what
 * the accesses caused (VM exits, faults), in ns summed over vCPUs; the workload takes
 * that time out of the VM's next steps, so the slowdown shows in its progress.
 */
export type PageAccessSink = (batch: PageAccessBatch) => number;

/**
 * The page-granular access stream of a workload model: `subscribe` switches the VM to
 * exact per-page tracking and hands every later step's accesses to the sink. `stall`
 * charges vCPU time lost outside the stream (an INVEPT at an interval's end).
 */
export interface PageAccessStream {
  subscribe(vm: number, sink: PageAccessSink): void;
  /** Takes `ns` (summed over the VM's vCPUs) out of the VM's next steps. */
  stall(vm: number, ns: number): void;
  /** vCPU time the VM has lost to stalls so far, ns summed over vCPUs. */
  stalledNs(vm: number): number;
  /** The VM's guest pages (its memory over the page size). */
  pages(vm: number): number;
  /** The VM's vCPUs. */
  vcpus(vm: number): number;
}
export const PageAccessStream = token<PageAccessStream>('PageAccessStream');
/**
 * The access stream of real guests (workload.guest in MMU timing mode). The
 * PageAccessStream provider hands the VMs that run a `kind: guest` workload to it, so
 * that dirty logging and working-set estimation see synthetic and real VMs alike.
 */
export const GuestPageAccessStream = token<PageAccessStream>('GuestPageAccessStream');

/**
 * The dirty log of the `dirty-log` capability (one provider per simulation): how the
 * hypervisor learns which pages a VM wrote, and what that costs. Consumers (migration
 * rounds, working-set estimators) open a client each; every client has its own
 * bitmap, filled from the hardware or software log, and re-arms it on its own
 * schedule. Re-arming clears the bits (or write-protects) the client's logged pages
 * and flushes, which also makes them log again for every other client.
 */
export interface DirtyLog {
  /** The mechanism: 'write-protect', 'pml' or 'prl'. */
  readonly kind: string;
  /** True when reads are logged too (PRL): clients may ask for accessed pages. */
  readonly logsReads: boolean;
  /**
   * Opens a client on a VM's log; logging starts (the VM's pages are armed) if it was
   * off. With `reads`, the client counts accessed pages and re-arming clears A bits too.
   */
  open(vm: number, name: string, reads?: boolean): number;
  /** Closes a client; logging of the VM stops with its last client. */
  close(client: number): void;
  /** Distinct pages written since the client last re-armed (the log drained first). */
  dirtyPages(client: number): number;
  /** Distinct pages read or written since the client last re-armed; only when logsReads. */
  accessedPages(client: number): number;
  /** The pages written since the client last re-armed, ascending. */
  dirtyPageList(client: number): Uint32Array;
  /**
   * Drains the log, clears the client's bitmap and re-arms its pages (write-protects
   * them again, or clears their D — and for PRL A — bits) and flushes. Returns the
   * hypervisor time this took, ns: the caller's thread spends it before going on.
   * `atNs` is when the pass starts (default: the current tick): vCPUs that log a page
   * while it holds the lock wait for it, and the time they hold the lock in between
   * stretches the pass (owed by this client at its next re-arm).
   */
  rearm(client: number, atNs?: number): number;
}
export const DirtyLog = token<DirtyLog>('DirtyLog');

/** A working-set estimator's published estimate. */
export interface WssEstimator {
  readonly id: string;
  /** The latest estimate of the VM's working set, bytes; NaN before the first interval ends. */
  estimate(vm: number): number;
  /** Every estimate so far for the VM: interval end times (ns) and bytes. */
  series(vm: number): { readonly t: readonly number[]; readonly bytes: readonly number[] };
}

/** Where working-set estimators publish (wss.*) and policies read (overcommitment). */
export class WssEstimators {
  private readonly list: WssEstimator[] = [];
  register(e: WssEstimator): void {
    if (this.list.some((x) => x.id === e.id)) throw new Error(`working-set estimator '${e.id}' is registered twice`);
    this.list.push(e);
  }
  get(id: string): WssEstimator | undefined {
    return this.list.find((x) => x.id === id);
  }
  ids(): string[] {
    return this.list.map((x) => x.id);
  }
}

const registries = new WeakMap<object, WssEstimators>();
/** The estimator registry of a simulation (one per simulation, made on first use). */
export function wssEstimators(sim: object): WssEstimators {
  let r = registries.get(sim);
  if (!r) registries.set(sim, (r = new WssEstimators()));
  return r;
}
