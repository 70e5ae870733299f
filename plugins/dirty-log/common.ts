// The dirty-log mechanisms shared by dirty-log.write-protect, dirty-log.pml and
// dirty-log.prl: one class that watches a VM's access stream (PageAccessStream), keeps
// the EPT A/D bits (EptAccessBits) and the per-vCPU logs, and fills each client's
// bitmap. Which mechanism runs is the plugin's `kind`:
//
// - write-protect: arming write-protects every page; the first write to a protected
//   page is an EPT violation (a VM exit on that vCPU) whose handler logs the page and
//   makes it writable. Re-arming write-protects every page of the VM again (a pass
//   over all its entries, as Xen's log-dirty CLEAN does), then INVEPT.
// - pml (Intel SDM vol. 3C §29.3.6, exactly): per vCPU a 4 KiB log of 512 eight-byte
//   guest-physical addresses and a 16-bit index that starts at 511 and counts down. When
//   the processor sets a D bit from 0 to 1 it writes the page's address at the index
//   and decrements it. When the index is outside 0–511 (it wrapped below 0) and a D bit
//   must be set, the access does not happen: a "page-modification log-full" VM exit on
//   that vCPU, the hypervisor drains the 512 entries into its dirty bitmap, resets the
//   index to 511 and re-enters; the access then logs into the fresh log. Re-arming
//   clears the D bits of the logged pages, then INVEPT.
// - prl (the paper's page reference logging): the same log, written also when an A bit
//   goes from 0 to 1 (a read), with bit 0 of the entry telling a write. A full log does
//   not stop the vCPU: it swaps to a second buffer and the notice goes to a hypervisor
//   core, which drains the full one (its time is counted, not the vCPU's).
//
// The lock (KVM's mmu_lock, Xen's paging lock): handling a write-protection fault,
// draining a PML log on a log-full exit and the re-arming pass all change EPT entries
// and the dirty bitmap under one per-VM lock. The pass runs in chunks of
// REARM_CHUNK_PAGES and lets waiting vCPUs in between (KVM's cond_resched_rwlock_write
// on a contended lock; QEMU clears the log in 1 GiB chunks, migration/ram.c
// clear_bitmap_shift = 18). So a vCPU that logs a page while a pass runs waits for the
// rest of the current chunk, and the pass is stretched by the lock time those vCPUs
// take; that stretch is owed by the client whose pass it was, and charged to its next
// re-arm. Both are counted from the logging events that fall inside the pass, so they
// grow with the write rate.
//
// Costs are in cycles of the VM's host (Host.frequency): VM exits, fault handling,
// drained entries, entries written when re-arming, and INVEPT per vCPU. The vCPU time
// lost (exits, INVEPTs) goes back to the workload as stalls, so the VM's progress
// shows it; hypervisor time (draining, clearing, write-protecting) is returned to the
// caller of rearm, whose thread spends it.

import { DIRTY_SET, EptAccessBits, Host, Vm, PageAccessStream, DirtyLog, type PageAccessBatch, type PluginApi, type Counter } from 'virtlab';

export type DirtyLogKind = 'write-protect' | 'pml' | 'prl';

/** Cost options shared by the three plugins, cycles of the host. */
export interface DirtyLogCosts {
  /** A VM exit and re-entry, cycles. */
  readonly vmExitCycles: number;
  /** Handling an EPT violation on a write-protected page (log it, make it writable), beyond the exit. */
  readonly faultCycles: number;
  /** Draining one log entry into the dirty bitmap. */
  readonly drainEntryCycles: number;
  /** Writing one EPT entry when re-arming (write-protecting it, or clearing its A/D bits). */
  readonly entryCycles: number;
  /** One INVEPT as each vCPU sees it: the kick, the exit, the flush and the TLB refill after it. */
  readonly inveptCycles: number;
  /** Write protection only: re-arm every page (Xen) or the dirtied pages through the reverse map (KVM). */
  readonly rearm?: 'all-pages' | 'dirtied-pages';
}

/** PML log geometry (Intel SDM: a 4 KiB page of 512 eight-byte entries). */
export const PML_ENTRIES = 512;

/**
 * Pages a re-arming pass handles before it lets a waiting vCPU take the lock: QEMU
 * clears KVM's dirty log in chunks of 2^18 pages (migration/ram.c clear_bitmap_shift),
 * each one KVM_CLEAR_DIRTY_LOG call holding mmu_lock.
 */
export const REARM_CHUNK_PAGES = 1 << 18;

interface Client {
  vm: number;
  name: string;
  reads: boolean;
  open: boolean;
  dirty: Uint32Array;
  accessed: Uint32Array;
  dirtyCount: number;
  accessedCount: number;
  /** Hypervisor ns owed to the next rearm (arming at open). */
  pendingNs: number;
}

interface Logged {
  vm: number;
  bits: EptAccessBits;
  clients: number[];
  vcpus: number;
  /** Per-vCPU log buffers of 512 guest-physical addresses (PRL: two per vCPU), and indexes. */
  log: Float64Array;
  index: Int32Array;
  /** PRL: which of a vCPU's two buffers is current. */
  buffer: Uint8Array;
  /** The last re-arming pass holding the lock: start and end (ns, end stretched by the vCPUs let in), its chunk length (ns) and its client. */
  passStartNs: number;
  passEndNs: number;
  passChunkNs: number;
  passClient: number;
  /** Per vCPU: until when it waits for the lock (ns). */
  vcpuBusyNs: Float64Array;
}

export class DirtyLogger implements DirtyLog {
  readonly logsReads: boolean;
  private readonly clients: Client[] = [];
  private readonly logged = new Map<number, Logged>();
  /** VMs whose stream this logger watches: a subscription outlives a restore, so it is made once. */
  private readonly subscribed = new Set<number>();
  private readonly c: {
    entries: Counter;
    logFull: Counter;
    exitsViolation: Counter;
    exitsLogFull: Counter;
    exitsKick: Counter;
    exitsInvept: Counter;
    drainCycles: Counter;
    bitsCleared: Counter;
    hypervisorCycles: Counter;
    hvCoreCycles: Counter;
    stallNs: Counter;
    lockWaitNs: Counter;
    passStretchNs: Counter;
  };

  constructor(
    private readonly api: PluginApi<unknown>,
    readonly kind: DirtyLogKind,
    private readonly costs: DirtyLogCosts,
  ) {
    this.logsReads = kind === 'prl';
    const n = (name: string, unit: string, d: string) => api.counter(`dirty-log.${name}`, unit, d);
    this.c = {
      entries: n('entries', 'entries', 'Entries written to the dirty log (PML/PRL log entries; for write-protection, pages logged by faults).'),
      logFull: n('log-full', 'events', 'Log-full events (a vCPU filled its 512-entry log).'),
      exitsViolation: n('exits.ept-violation', 'exits', 'VM exits on writes to write-protected pages.'),
      exitsLogFull: n('exits.log-full', 'exits', 'VM exits on a full PML log (none with PRL: the notice goes to a hypervisor core).'),
      exitsKick: n('exits.kick', 'exits', 'VM exits to drain partly filled logs before the bitmap is read.'),
      exitsInvept: n('exits.invept', 'exits', 'vCPU exits for the INVEPT after bits were cleared or pages write-protected.'),
      drainCycles: n('drain-cycles', 'cycles', 'Cycles spent draining logs into dirty bitmaps.'),
      bitsCleared: n('bits-cleared', 'entries', 'EPT entries written when (re-)arming: write-protected, or A/D bits cleared.'),
      hypervisorCycles: n('hypervisor-cycles', 'cycles', 'Hypervisor cycles of arming, draining and re-arming, spent by the thread that reads the log.'),
      hvCoreCycles: n('hypervisor-core-cycles', 'cycles', 'Cycles of the hypervisor core that drains full PRL logs while the vCPUs run on.'),
      stallNs: n('vcpu-stall-ns', 'ns', 'vCPU time lost to logging exits and INVEPTs, summed over vCPUs.'),
      lockWaitNs: n('lock-wait-ns', 'ns', 'vCPU time spent waiting for the lock held by a re-arming pass (part of vcpu-stall-ns).'),
      passStretchNs: n('pass-stretch-ns', 'ns', 'Time re-arming passes lost to vCPUs that took the lock between its chunks, charged to the next re-arm.'),
    };
  }

  private stream(): PageAccessStream {
    return this.api.sim.services.get(PageAccessStream);
  }

  private ghz(vm: number): number {
    return hostGhz(this.api.sim, vm);
  }

  open(vm: number, name: string, reads = false): number {
    if (reads && !this.logsReads) throw new Error(`'${name}' needs reads logged, but the dirty-log provider is ${this.kind}: select dirty-log.prl`);
    const stream = this.stream();
    let L = this.logged.get(vm);
    let armNs = 0;
    if (!L) {
      const pages = stream.pages(vm);
      const vcpus = stream.vcpus(vm);
      const buffers = this.kind === 'prl' ? 2 : 1;
      L = { vm, bits: new EptAccessBits(pages), clients: [], vcpus, log: new Float64Array(PML_ENTRIES * vcpus * buffers), index: new Int32Array(vcpus).fill(PML_ENTRIES - 1), buffer: new Uint8Array(vcpus), passStartNs: 0, passEndNs: 0, passChunkNs: 0, passClient: -1, vcpuBusyNs: new Float64Array(vcpus) };
      this.logged.set(vm, L);
      this.watch(vm);
      // Arming: every EPT entry is write-protected (or has its A/D bits cleared: the
      // bits start clear here, as after that pass), then INVEPT.
      armNs = this.clearCost(L, pages);
    }
    const words = L.bits.dirty.length;
    const id = this.clients.length;
    this.clients.push({ vm, name, reads, open: true, dirty: new Uint32Array(words), accessed: new Uint32Array(words), dirtyCount: 0, accessedCount: 0, pendingNs: armNs });
    L.clients.push(id);
    return id;
  }

  close(client: number): void {
    const c = this.client(client);
    c.open = false;
    const L = this.logged.get(c.vm)!;
    L.clients = L.clients.filter((x) => x !== client);
    // Logging stops with the last client; the stream stays subscribed and is ignored.
    if (!L.clients.length) this.logged.delete(c.vm);
  }

  private client(id: number): Client {
    const c = this.clients[id];
    if (!c || !c.open) throw new Error(`no open dirty-log client ${id}`);
    return c;
  }

  /** The entries written and INVEPT of a (re-)arming pass over `entries` entries: hypervisor ns; the vCPUs stall for the INVEPT. */
  private clearCost(L: Logged, entries: number): number {
    if (entries <= 0) return 0;
    const ghz = this.ghz(L.vm);
    this.c.bitsCleared.add(entries);
    const hv = entries * this.costs.entryCycles;
    this.c.hypervisorCycles.add(hv);
    this.c.exitsInvept.add(L.vcpus);
    const stall = (L.vcpus * this.costs.inveptCycles) / ghz;
    this.c.stallNs.add(stall);
    this.stream().stall(L.vm, stall);
    return hv / ghz;
  }

  /** Marks a page in every client's bitmap of the VM. */
  private record(L: Logged, page: number, write: boolean): void {
    const w = page >>> 5;
    const bit = 1 << (page & 31);
    for (let k = 0; k < L.clients.length; k++) {
      const c = this.clients[L.clients[k]];
      if (!(c.accessed[w] & bit)) {
        c.accessed[w] |= bit;
        c.accessedCount++;
      }
      if (write && !(c.dirty[w] & bit)) {
        c.dirty[w] |= bit;
        c.dirtyCount++;
      }
    }
  }

  /** Drains `count` entries of a log buffer starting at `from` into the bitmaps; returns the cycles it took. */
  private drain(L: Logged, from: number, count: number): number {
    for (let i = 0; i < count; i++) {
      const e = L.log[from + i];
      // Bits 11:0 of a logged address are zero (a page address); PRL uses bit 0 for a write.
      const write = this.kind !== 'prl' || e % 2 === 1;
      this.record(L, Math.floor(e / 4096), write);
    }
    const cycles = count * this.costs.drainEntryCycles;
    this.c.drainCycles.add(cycles);
    return cycles;
  }

  /** The stream sink: the mechanism at work on one step's accesses. Returns vCPU ns lost. */
  private onBatch(b: PageAccessBatch): number {
    const L = this.logged.get(b.vm);
    if (!L) return 0;
    const bits = L.bits;
    let stallCycles = 0;
    let waitNs = 0;
    let entries = 0;
    const wp = this.kind === 'write-protect';
    const prl = this.kind === 'prl';
    const ghz = this.ghz(b.vm);
    // Accesses are spread evenly over the step; only those inside a pass meet the lock.
    const inPass = L.passEndNs > b.startNs && L.passStartNs < b.endNs;
    const dt = (b.endNs - b.startNs) / Math.max(1, b.count);
    /** A vCPU needs the lock at access i for `holdCycles`: the wait, and the pass stretched by the hold. */
    const lock = (i: number, v: number, holdCycles: number) => {
      const t = Math.max(b.startNs + (i + 0.5) * dt, L.vcpuBusyNs[v]);
      if (t < L.passStartNs || t >= L.passEndNs) return;
      // It waits for the rest of the current chunk, then holds the lock while the pass waits.
      const chunkEnd = Math.min(L.passEndNs, L.passStartNs + Math.ceil((t - L.passStartNs + 1e-9) / L.passChunkNs) * L.passChunkNs);
      const hold = holdCycles / ghz;
      waitNs += chunkEnd - t;
      L.vcpuBusyNs[v] = chunkEnd + hold;
      L.passEndNs += hold;
      this.c.passStretchNs.add(hold);
      if (L.passClient >= 0 && this.clients[L.passClient]?.open) this.clients[L.passClient].pendingNs += hold;
    };
    for (let i = 0; i < b.count; i++) {
      const page = b.pages[i];
      const write = b.writes[i] === 1;
      if (wp) {
        // The D bit stands for "made writable since armed": a write to a protected page faults.
        if (write && !bits.isDirty(page)) {
          bits.touch(page, true);
          this.c.exitsViolation.add(1);
          stallCycles += this.costs.vmExitCycles + this.costs.faultCycles;
          if (inPass) lock(i, b.vcpus[i], this.costs.faultCycles);
          this.record(L, page, true);
          entries++;
        } else if (!write) bits.touch(page, false);
        continue;
      }
      const set = bits.touch(page, write);
      const logs = prl ? set !== 0 : (set & DIRTY_SET) !== 0;
      if (!logs) continue;
      const v = b.vcpus[i];
      const base = (prl ? v * 2 + L.buffer[v] : v) * PML_ENTRIES;
      if (L.index[v] < 0) {
        // The index wrapped below 0: the log is full.
        this.c.logFull.add(1);
        if (prl) {
          // The vCPU swaps buffers and runs on; a hypervisor core drains the full one.
          this.c.hvCoreCycles.add(this.drain(L, base, PML_ENTRIES));
          L.buffer[v] ^= 1;
        } else {
          this.c.exitsLogFull.add(1);
          const drained = this.drain(L, base, PML_ENTRIES);
          stallCycles += this.costs.vmExitCycles + drained;
          if (inPass) lock(i, v, drained);
        }
        L.index[v] = PML_ENTRIES - 1;
      }
      const at = (prl ? v * 2 + L.buffer[v] : v) * PML_ENTRIES + L.index[v];
      L.log[at] = page * 4096 + (prl && write ? 1 : 0);
      L.index[v]--;
      entries++;
    }
    if (entries) this.c.entries.add(entries);
    if (waitNs) this.c.lockWaitNs.add(waitNs);
    if (!stallCycles && !waitNs) return 0;
    const ns = stallCycles / ghz + waitNs;
    this.c.stallNs.add(ns);
    return ns;
  }

  /** Drains the partly filled logs of every vCPU (PML: a kick, so an exit each; PRL: the hypervisor core reads them). */
  private flushLogs(L: Logged): void {
    if (this.kind === 'write-protect') return;
    const prl = this.kind === 'prl';
    let stallCycles = 0;
    for (let v = 0; v < L.vcpus; v++) {
      const n = PML_ENTRIES - 1 - L.index[v];
      if (n <= 0) continue;
      // Entries sit from index+1 to 511.
      const base = (prl ? v * 2 + L.buffer[v] : v) * PML_ENTRIES;
      const cycles = this.drain(L, base + L.index[v] + 1, n);
      if (prl) this.c.hvCoreCycles.add(cycles);
      else {
        this.c.exitsKick.add(1);
        stallCycles += this.costs.vmExitCycles + cycles;
      }
      L.index[v] = PML_ENTRIES - 1;
    }
    if (stallCycles) {
      const ns = stallCycles / this.ghz(L.vm);
      this.c.stallNs.add(ns);
      this.stream().stall(L.vm, ns);
    }
  }

  dirtyPages(client: number): number {
    const c = this.client(client);
    this.flushLogs(this.logged.get(c.vm)!);
    return c.dirtyCount;
  }

  accessedPages(client: number): number {
    const c = this.client(client);
    if (!this.logsReads) throw new Error(`the ${this.kind} dirty log does not log reads: select dirty-log.prl`);
    this.flushLogs(this.logged.get(c.vm)!);
    return c.accessedCount;
  }

  dirtyPageList(client: number): Uint32Array {
    const c = this.client(client);
    this.flushLogs(this.logged.get(c.vm)!);
    return listBits(c.dirty, c.dirtyCount);
  }

  rearm(client: number, atNs = this.api.sim.timeNs): number {
    const c = this.client(client);
    const L = this.logged.get(c.vm)!;
    this.flushLogs(L);
    let ns = c.pendingNs;
    c.pendingNs = 0;
    // Draining counts as hypervisor time of the reader, whichever thread drained.
    const list = listBits(c.reads ? c.accessed : c.dirty, c.reads ? c.accessedCount : c.dirtyCount);
    // Write-protect the written pages again, or clear the bits that made them log.
    let written: number;
    if (this.kind === 'write-protect' && this.costs.rearm !== 'dirtied-pages') {
      // Re-arming write protection is a pass over the whole guest memory (Xen's
      // log-dirty CLEAN changes every entry back to read-only): every entry is written.
      L.bits.dirty.fill(0);
      L.bits.dirtyCount = 0;
      written = L.bits.pages;
    } else if (this.kind === 'write-protect') {
      // KVM: kvm_get_dirty_log_protect (or KVM_CLEAR_DIRTY_LOG) walks the dirty bitmap
      // and write-protects each set page through the reverse map
      // (kvm_arch_mmu_enable_log_dirty_pt_masked), so the pass is the pages dirtied.
      // Every client's logged pages were made writable by a fault, so D marks them.
      written = L.bits.clearDirty(list);
    } else written = c.reads ? L.bits.clearAccessed(list) : L.bits.clearDirty(list);
    const passNs = this.clearCost(L, written);
    ns += passNs;
    // The pass holds the lock from now, in chunks; vCPUs that log meanwhile meet it (onBatch).
    if (passNs > 0) {
      L.passStartNs = atNs;
      L.passEndNs = atNs + passNs;
      L.passChunkNs = (passNs * Math.min(written, REARM_CHUNK_PAGES)) / written;
      L.passClient = client;
    }
    c.dirty.fill(0);
    c.accessed.fill(0);
    c.dirtyCount = 0;
    c.accessedCount = 0;
    return ns;
  }

  /** The state of the logs and clients, for snapshots. */
  save(): unknown {
    return {
      clients: this.clients.map((c) => ({ ...c })),
      logged: [...this.logged.values()].map((L) => ({ vm: L.vm, pages: L.bits.pages, accessed: L.bits.accessed, dirty: L.bits.dirty, ac: L.bits.accessedCount, dc: L.bits.dirtyCount, clients: L.clients, vcpus: L.vcpus, log: L.log, index: L.index, buffer: L.buffer, pass: [L.passStartNs, L.passEndNs, L.passChunkNs, L.passClient], busy: L.vcpuBusyNs })),
    };
  }

  load(data: unknown): void {
    const d = data as { clients: Client[]; logged: Array<{ vm: number; pages: number; accessed: Uint32Array; dirty: Uint32Array; ac: number; dc: number; clients: number[]; vcpus: number; log: Float64Array; index: Int32Array; buffer: Uint8Array; pass: number[]; busy: Float64Array }> };
    this.clients.length = 0;
    for (const c of d.clients) this.clients.push({ ...c, dirty: Uint32Array.from(c.dirty), accessed: Uint32Array.from(c.accessed) });
    this.logged.clear();
    for (const s of d.logged) {
      const bits = new EptAccessBits(s.pages);
      bits.accessed.set(s.accessed);
      bits.dirty.set(s.dirty);
      bits.accessedCount = s.ac;
      bits.dirtyCount = s.dc;
      this.logged.set(s.vm, { vm: s.vm, bits, clients: [...s.clients], vcpus: s.vcpus, log: Float64Array.from(s.log), index: Int32Array.from(s.index), buffer: Uint8Array.from(s.buffer), passStartNs: s.pass[0], passEndNs: s.pass[1], passChunkNs: s.pass[2], passClient: s.pass[3], vcpuBusyNs: Float64Array.from(s.busy) });
      this.watch(s.vm);
    }
  }

  private watch(vm: number): void {
    if (this.subscribed.has(vm)) return;
    this.subscribed.add(vm);
    this.stream().subscribe(vm, (b) => this.onBatch(b));
  }
}

/** The clock of the VM's host, GHz (cycles per ns); before the VM is placed, the first host's. */
export function hostGhz(sim: PluginApi<unknown>['sim'], vm: number): number {
  const H = sim.world.store(Host);
  const host = sim.world.store(Vm).host[vm];
  let f = sim.world.has(host, Host) ? H.frequency[host] : 0;
  if (!(f > 0)) for (const h of sim.world.query([Host])) if ((f = H.frequency[h]) > 0) break;
  if (!(f > 0)) throw new Error(`no host with a clock frequency for VM ${vm}: costs in cycles need one`);
  return f / 1e9;
}

/** The set bits of a bitmap, ascending. */
export function listBits(bits: Uint32Array, count: number): Uint32Array {
  const out = new Uint32Array(count);
  let k = 0;
  for (let w = 0; w < bits.length && k < count; w++) {
    let x = bits[w];
    while (x) {
      const low = x & -x;
      out[k++] = (w << 5) + 31 - Math.clz32(low);
      x ^= low;
    }
  }
  return out;
}

/** Registers a dirty-log provider of the given kind: the body of the three plugins. */
export function registerDirtyLog(api: PluginApi<DirtyLogCosts>, kind: DirtyLogKind): DirtyLogger {
  const logger = new DirtyLogger(api as PluginApi<unknown>, kind, api.options);
  api.provide(DirtyLog, { useValue: logger });
  api.persist('logs', { save: () => logger.save(), load: (d) => logger.load(d) });
  return logger;
}

