// SSP under the real kernel (scenarios/repro/ssp-linux.scenario.yaml): the committed
// Linux boots, runs forkmap and powers off in timing mode under mmu.ssp and under
// mmu.shadow-paging (the strategy swapped in one line). The guest sees neither: the
// console and the instruction count are the same. Shadow paging exits on every store
// to a page-table page the kernel makes; SSP exits on none of them, and takes the
// kernel's sfence.vma in machine mode instead, so it exits less in all. Two boots in
// timing mode, the only heavy thing in this file.
//
// Mutation that must break it (checked): SSP write-protecting the guest's page
// tables as shadow paging does (its ptWrite taking a VM exit) — it then exits on
// every page-table write and more than shadow paging in all.
import { runSspLinuxScenario } from '../../tools/node/linux-vm';

it('exits less under SSP than under shadow paging while Linux boots and runs forkmap', async () => {
  const ssp = await runSspLinuxScenario('mmu.ssp');
  const shadow = await runSspLinuxScenario('mmu.shadow-paging');
  expect(ssp.failedExpectations).toEqual([]);
  expect(shadow.metric('linux.failed')).toBe(0);
  expect(shadow.console).toBe(ssp.console);
  expect(shadow.metric('linux.instructions')).toBe(ssp.metric('linux.instructions'));
  // Shadow paging exits on the kernel's page-table writes, SSP on none; SSP enters machine mode instead.
  expect(shadow.metric('mmu.exits.pt-write')).toBeGreaterThan(1000);
  expect(ssp.metric('mmu.exits.pt-write')).toBe(0);
  expect(ssp.metric('mmu.mmode-entries')).toBeGreaterThan(1000);
  expect(shadow.metric('mmu.mmode-entries')).toBe(0);
  expect(ssp.metric('mmu.exits')).toBeLessThan(shadow.metric('mmu.exits'));
  // Translation delays the VM, not its guest: power-off comes later than without timing mode.
  expect(ssp.metric('linux.power-off-time')).toBeGreaterThan((ssp.metric('linux.instructions') / 1.2e9) * 1e9);
}, 1_800_000);
