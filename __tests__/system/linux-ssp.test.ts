// SSP on the real kernel: the committed OpenSBI, Linux 6.1 and our init (its programs,
// then forkmap, fork- and mmap-heavy) boot in timing mode under traditional shadow
// paging and under SSP, through the hart-to-strategy bridge. The console stays QEMU's
// (timing mode changes nothing the guest sees) and both runs retire the same
// instructions; SSP takes fewer VM exits than shadow paging over the whole boot, with
// no page-table-write exit at all, because the kernel's page-table
// writes reach it only through the sfence.vma that follows them (a machine-mode trap
// each, with a resync). Two boots in timing mode: the only heavy thing in this file.
//
// Mutations that must break it: SSP write-protecting page-table pages as shadow paging
// does (its ptWrite exiting: 22 618 pt-write exits appear; checked); the bridge not
// announcing sfence.vma (SSP's shadows go stale and hide guest faults: 17 305 against
// shadow paging's 18 900, and its machine-mode entries stop matching the kernel's
// flushes and satp writes; checked).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootTimed, linuxArtefacts, type TimedBoot } from '../../tools/cli/boot-mmu';

const LINUX = join(__dirname, '../../scenarios/linux');

/** The console's lines without carriage returns and printk timestamps, and without the "Memory:" line (Sv57 changes it under QEMU; linux-boot.test.ts checks it). */
function lines(text: string): string[] {
  return text
    .replace(/\r/g, '')
    .split('\n')
    .map((l) => l.replace(/^\[ *\d+\.\d+\] /, ''))
    .filter((l) => !l.startsWith('Memory: '));
}

const runs: Record<string, { boot: TimedBoot; console: string }> = {};

beforeAll(async () => {
  for (const strategy of ['shadow-paging', 'ssp']) {
    const bytes: number[] = [];
    const boot = await bootTimed({ strategy, machine: linuxArtefacts(), onConsole: (b) => bytes.push(b), maxInstructions: 2_000_000_000 });
    runs[strategy] = { boot, console: Buffer.from(bytes).toString('latin1') };
  }
}, 1_200_000);

it('boots to power-off under both strategies with QEMU’s console and the same instruction count', () => {
  const qemu = lines(readFileSync(join(LINUX, 'console.qemu.txt'), 'latin1'));
  for (const { boot, console } of Object.values(runs)) {
    expect(boot.result.reason).toBe('poweroff');
    expect(boot.result.status).toBe(0);
    expect(lines(console)).toEqual(qemu);
  }
  expect(runs.ssp.boot.result.instructions).toBe(runs['shadow-paging'].boot.result.instructions);
});

it('SSP takes fewer VM exits than shadow paging on the real kernel, none for page-table writes', () => {
  const shadow = runs['shadow-paging'].boot;
  const ssp = runs.ssp.boot;
  // The kernel does write its page tables, and shadow paging traps those writes.
  expect(ssp.whole.bridge.ptWrites).toBeGreaterThan(0);
  expect(shadow.whole.exits['pt-write']).toBeGreaterThan(0);
  expect(ssp.whole.exits['pt-write'] ?? 0).toBe(0);
  expect(ssp.whole.totalExits).toBeLessThan(shadow.whole.totalExits);
  // Both see the same guest faults: neither strategy's shadow is stale.
  expect(ssp.whole.guestFaults).toBe(shadow.whole.guestFaults);
  // forkmap's window was found in both runs (its figures are reported, not ordered here:
  // the whole-space flushes of fork and exit make SSP drop and refault its shadows).
  expect(ssp.window).not.toBeNull();
  expect(shadow.window).not.toBeNull();
  // SSP learns of the changes through the flushes: each sfence.vma and satp write is a machine-mode trap, and flushed entries are resynced.
  expect(ssp.whole.bridge.sfences).toBeGreaterThan(0);
  expect(ssp.whole.mmodeEntries).toBe(ssp.whole.bridge.sfences + ssp.whole.bridge.satpWrites);
  expect(ssp.whole.syncs).toBeGreaterThan(0);
});
