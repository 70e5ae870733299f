// `virtlab boot`'s options around timing mode: the paging mode the device tree announces
// moved from --mmu to --paging, and --mmu names an MMU strategy plugin; wrong uses are
// refused with a message that says what to write instead, before anything boots.
import { bootCommand } from '../../tools/cli/boot';
import { UsageError } from '../../tools/cli/args';

const io = { out: () => {}, err: () => {} };

it('refuses the old --mmu sv39|sv48 with a pointer to --paging', async () => {
  for (const mode of ['sv39', 'sv48']) {
    const e = await bootCommand(['--mmu', mode], io).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).message).toContain(`--paging ${mode}`);
  }
});

it('refuses a paging mode it does not know, and --host or --window without --mmu', async () => {
  await expect(bootCommand(['--paging', 'sv32'], io)).rejects.toThrow(/--paging: sv32/);
  await expect(bootCommand(['--host', 'riscv-board'], io)).rejects.toThrow(/go with --mmu/);
  await expect(bootCommand(['--mmu', 'ssp', '--window', 'nodots'], io)).rejects.toThrow(/from\.\.to/);
});
