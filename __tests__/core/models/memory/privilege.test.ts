// User and supervisor address spaces, and guest page faults, under the translators
// and the hardware strategies: SoftMMU's software TLB per MMU index (QEMU's U, S and
// S+SUM tables) and the cost of emptying each one used; BTMMU's user and supervisor
// shadow tables and the host root switches between them; the guest kernel's
// privilege changes reaching every strategy as events; and a first touch of an
// unmapped page costing what delivering a guest fault costs under each strategy.
// Each test names in a comment the mutation of the mechanism that must break it;
// each was checked once to do so.
import { readFileSync } from 'node:fs';
import { GuestKernel, PRIV_SUPERVISOR, PRIV_SUPERVISOR_SUM, PRIV_USER, createHooks, type HostProfile, type MmuContext, type MmuStrategy } from '../../../../core/index.test-exports';
import { loadHostProfile } from '../../../../core/scenario/loader';
import { BtMmu } from '../../../../plugins/mmu/btmmu/btmmu';
import { CompromisMmu } from '../../../../plugins/mmu/compromis/compromis';
import { NativeMmu } from '../../../../plugins/mmu/native/native';
import { NestedMmu } from '../../../../plugins/mmu/nested-paging/nested-paging';
import { ShadowMmu } from '../../../../plugins/mmu/shadow-paging/shadow-paging';
import { SoftMmu } from '../../../../plugins/mmu/softmmu/softmmu';
import { SspMmu } from '../../../../plugins/mmu/ssp/ssp';

const x86: HostProfile = loadHostProfile(readFileSync('hosts/x86-64-server.host.yaml', 'utf8'), 'hosts/x86-64-server.host.yaml');
const v = x86.virtualization;
const ctx = (): MmuContext => ({ profile: x86, hooks: createHooks(), hostFrames: 1 << 22, pageWalkCache: false, nestedTlb: false });

/**
 * A guest booted as workload.paging boots it: the kernel maps its data pages (in
 * supervisor mode) and the user pages of one process, every entry written through
 * the strategy; the guest then runs in user mode.
 */
function boot(s: MmuStrategy, userPages = 16, kernelPages = 8): GuestKernel {
  const k = new GuestKernel(1, 4096, 4);
  s.attach(k);
  s.privilege(k, PRIV_SUPERVISOR);
  k.spawn();
  const kernel = k.mapKernel(kernelPages);
  s.ptWrite(k, kernel.written, 0, kernel.vpns);
  for (let i = 0; i < userPages; i++) {
    const { vpn, written } = k.mapNext(0);
    s.ptWrite(k, written, 0, [vpn]);
  }
  s.privilege(k, PRIV_USER);
  return k;
}

describe('SoftMMU keeps a software TLB per MMU index', () => {
  // Mutation that must break it: one TLB for both privileges (mmuIndex returning 0
  // for every mode): the kernel's copy would hit the user's entry, and user code
  // would reach a kernel page through the entry the kernel filled.
  it('misses in the S+SUM table for a page hot in the user table, and never lets user code reach a kernel page', () => {
    const s = new SoftMmu(ctx(), 256);
    const k = boot(s);
    const user = k.processes[0].pages[3];
    const kernel = k.kernelPages[2];
    s.access(k, user);
    const misses = s.stats.misses;
    s.access(k, user);
    expect(s.stats.misses).toBe(misses);
    // copy_from_user: supervisor mode with SUM, its own table, cold.
    s.privilege(k, PRIV_SUPERVISOR);
    s.access(k, kernel);
    s.privilege(k, PRIV_SUPERVISOR_SUM);
    s.access(k, user);
    expect(s.stats.misses).toBe(misses + 2);
    expect(s.stats.guestFaults).toBe(0);
    // Back in user mode the user entry is still there, and the kernel page faults.
    s.privilege(k, PRIV_USER);
    s.access(k, user);
    expect(s.stats.misses).toBe(misses + 2);
    s.access(k, kernel);
    expect(s.stats.guestFaults).toBe(1);
  });

  // Mutation that must break it: a flush that pays for one table whatever was used
  // (or one that empties nothing: the entries would survive the switch).
  it('pays at each flush for emptying every table used since the last one', () => {
    const s = new SoftMmu(ctx(), 256);
    const k = boot(s);
    const user = k.processes[0].pages[0];
    s.access(k, user);
    let before = s.stats.flushCycles;
    s.flush(k, k.processes[0].asid, user);
    const one = s.stats.flushCycles - before;
    expect(one).toBe(v.softTlbHelperCycles + 256 * v.softTlbFlushCyclesPerEntry);
    s.access(k, user);
    s.privilege(k, PRIV_SUPERVISOR);
    s.access(k, k.kernelPages[0]);
    s.privilege(k, PRIV_SUPERVISOR_SUM);
    s.access(k, user);
    before = s.stats.flushCycles;
    s.flush(k, k.processes[0].asid, -1);
    expect(s.stats.flushCycles - before).toBe(v.softTlbHelperCycles + 3 * 256 * v.softTlbFlushCyclesPerEntry);
    // All three were emptied: each misses again.
    const misses = s.stats.misses;
    s.access(k, user);
    s.privilege(k, PRIV_SUPERVISOR);
    s.access(k, k.kernelPages[0]);
    s.privilege(k, PRIV_USER);
    s.access(k, user);
    expect(s.stats.misses).toBe(misses + 3);
  });

  // Mutation that must break it: a privilege change that flushes (QEMU selects another table instead).
  it('changes privilege without flushing or paying anything', () => {
    const s = new SoftMmu(ctx(), 256);
    const k = boot(s);
    s.access(k, k.processes[0].pages[0]);
    const cycles = s.stats.cycles;
    expect(s.privilege(k, PRIV_SUPERVISOR) + s.privilege(k, PRIV_SUPERVISOR_SUM) + s.privilege(k, PRIV_USER)).toBe(0);
    expect(s.stats.cycles).toBe(cycles);
    const misses = s.stats.misses;
    s.access(k, k.processes[0].pages[0]);
    expect(s.stats.misses).toBe(misses);
  });
});

describe('BTMMU keeps user and supervisor shadow tables', () => {
  // Mutation that must break it: one shadow table (and host space) for both
  // privileges (space() returning 0, or the user space not user-only): the kernel's
  // fill of a kernel page would let user code reach it.
  it('never lets user code reach a kernel page the kernel has touched', () => {
    const s = new BtMmu(ctx());
    const k = boot(s);
    const kernel = k.kernelPages[1];
    s.privilege(k, PRIV_SUPERVISOR);
    s.access(k, kernel);
    expect(s.stats.guestFaults).toBe(0);
    s.privilege(k, PRIV_USER);
    s.access(k, kernel);
    expect(s.stats.guestFaults).toBe(1);
    // The kernel reaches user pages (copy_from_user) through its own shadow table: a hidden fault there, not a guest fault.
    const hidden = s.stats.hiddenFaults;
    s.privilege(k, PRIV_SUPERVISOR_SUM);
    s.access(k, k.processes[0].pages[2]);
    expect(s.stats.guestFaults).toBe(1);
    expect(s.stats.hiddenFaults).toBe(hidden + 1);
  });

  // Mutation that must break it: a privilege switch that is free (no module call and
  // no host root write when guest code enters or leaves its kernel).
  it('pays a module call and a host root write to enter and to leave the guest kernel, nothing for SUM', () => {
    const s = new BtMmu(ctx());
    const k = boot(s);
    const before = s.stats.switchCycles;
    const one = v.hostSyscallCycles + v.rootRegisterWriteCycles;
    expect(s.privilege(k, PRIV_SUPERVISOR)).toBe(one);
    expect(s.privilege(k, PRIV_SUPERVISOR_SUM)).toBe(0);
    expect(s.privilege(k, PRIV_SUPERVISOR)).toBe(0);
    expect(s.privilege(k, PRIV_USER)).toBe(one);
    expect(s.stats.switchCycles - before).toBe(2 * one);
    expect(s.stats.privilegeSwitches).toBeGreaterThanOrEqual(4);
  });

  // Mutation that must break it: a flush that resynchronizes the user shadow only (the kernel's view would keep a stale frame).
  it('resynchronizes both shadow tables at a flush', () => {
    const s = new BtMmu(ctx());
    const k = boot(s);
    const vpn = k.processes[0].pages[4];
    s.access(k, vpn);
    s.privilege(k, PRIV_SUPERVISOR_SUM);
    s.access(k, vpn);
    const old = s.resolve(k, vpn);
    s.ptWrite(k, [k.remap(0, vpn)], 0, [vpn]);
    s.flush(k, k.processes[0].asid, vpn);
    const now = s.resolve(k, vpn);
    expect(now).not.toBe(old);
    s.privilege(k, PRIV_USER);
    expect(s.resolve(k, vpn)).toBe(now);
  });
});

describe('a first touch of an unmapped page is a guest page fault', () => {
  // Mutation that must break it: a first-touch fault that is free (the kernel mapping
  // the page before the access, or a strategy that charges nothing to deliver it).
  it('costs the guest’s exception entry on hardware MMUs, an exit under shadow schemes, a bounce under translators', () => {
    const strategies: Array<[MmuStrategy, (s: MmuStrategy) => void]> = [
      [new NativeMmu(ctx()), (s) => expect(s.stats.faultCycles).toBe(v.pageFaultEntryCycles)],
      [new NestedMmu(ctx()), (s) => expect(s.stats.faultCycles).toBe(v.pageFaultEntryCycles)],
      [new CompromisMmu(ctx()), (s) => expect(s.stats.faultCycles).toBe(v.pageFaultEntryCycles)],
      [
        new ShadowMmu(ctx()),
        (s) => {
          expect(s.stats.exits.get('guest-fault')).toBe(1);
          expect(s.stats.faultCycles).toBeGreaterThan(v.pageFaultEntryCycles);
        },
      ],
      [new SspMmu(ctx(), 4), (s) => expect(s.stats.exits.get('guest-fault')).toBe(1)],
      [new SoftMmu(ctx()), (s) => expect(s.stats.faultCycles).toBe(v.translatorFaultCycles)],
      [
        new BtMmu(ctx()),
        (s) => {
          // The module's walk of the guest table, then the signal to the translator and its raise of the guest exception.
          expect(s.stats.faultCycles).toBeGreaterThan(v.hostSignalCycles + v.translatorFaultCycles);
          expect(s.stats.faultCycles).toBeLessThan(v.hostSignalCycles + v.translatorFaultCycles + 1000);
        },
      ],
    ];
    for (const [s, check] of strategies) {
      const k = boot(s);
      const vpn = k.reserveNext(0);
      s.resetStats();
      s.access(k, vpn);
      expect(s.stats.guestFaults).toBe(1);
      check(s);
      const exits = s.stats.totalExits;
      if (!(s instanceof ShadowMmu || s instanceof SspMmu)) expect(exits).toBe(0);
      // The kernel maps it; the retried access translates and faults no more.
      s.privilege(k, PRIV_SUPERVISOR);
      s.ptWrite(k, k.mapPage(0, vpn), 0, [vpn]);
      s.privilege(k, PRIV_USER);
      s.access(k, vpn);
      s.access(k, vpn);
      expect(s.stats.guestFaults).toBe(1);
      expect(s.resolve(k, vpn)).toBeGreaterThanOrEqual(0);
    }
  });
});
