// The synopsis and options of `virtlab boot`, apart from its code so that `virtlab
// --help` lists the command without loading the machine.

import type { CommandSpec } from './args';

export const BOOT_SPEC: CommandSpec = {
  name: 'boot',
  summary: "boot a RISC-V kernel on the model of QEMU's virt board and print its console",
  usage: ['boot [--engine interpreter|block|instrew [--option name=value]…] [--mem 128M] [--append "…"] [--initrd f] [--bios f] [--paging sv57|sv48|sv39] [--mmu <strategy> [--host <profile>] [--window from..to]] [--max-instructions n] [--stats] [kernel]'],
  options: {
    engine: { type: 'string', arg: 'name', description: "what runs the hart: interpreter (default, the hart's own), block (dbt.block-translator) or instrew (dbt.instrew), or any cpu.engine plugin with a full-system translator" },
    option: { type: 'string', multiple: true, arg: 'name=value', description: 'an option of the engine plugin (YAML value)' },
    mem: { type: 'string', arg: 'size', description: 'RAM (default 128M; QEMU spellings like 256M, 1G, or 128MiB)' },
    append: { type: 'string', arg: 'text', description: 'the kernel command line (default "console=ttyS0 earlycon initramfs_async=0", as the recorded QEMU boot)' },
    initrd: { type: 'string', arg: 'file', description: 'the initramfs (default scenarios/linux/initramfs.cpio with the default kernel; none otherwise)' },
    bios: { type: 'string', arg: 'file', description: "firmware entered first in M-mode at 0x80000000 (default scenarios/linux/fw_jump.bin, OpenSBI's fw_jump); 'none': enter the kernel itself in M-mode, as -bios none" },
    paging: { type: 'string', arg: 'mode', description: 'the widest paging mode the hart offers, which the device tree announces: sv57 (default, as QEMU 7.2), sv48 or sv39' },
    mmu: {
      type: 'string',
      arg: 'strategy',
      description:
        "timing mode: the kernel's memory behaviour goes through this MMU strategy plugin (native, nested-paging, shadow-paging, ssp, compromis, btmmu, softmmu; mmu.<id> also works), whose counters are printed on stderr at the end with the overhead against a second run under native",
    },
    host: { type: 'string', arg: 'profile', description: 'the host profile the strategy is built for (default riscv-board)' },
    window: { type: 'string', arg: 'from..to', description: "with --mmu, also report the stretch between the console lines starting with these texts (default, with the default kernel: 'init: threads-join exited..init: forkmap exited', forkmap's run)" },
    'max-instructions': { type: 'string', arg: 'n', description: 'stop after n instructions, exit status 124 (default: no limit)' },
    stats: { type: 'boolean', description: 'print instructions, traps, interrupts, page walks, wall and CPU time to stderr at the end, and the engine\'s counters (units translated, instructions run in translated code and in the hart, translation time)' },
  },
  examples: ['virtlab boot', 'virtlab boot --engine block --stats', 'virtlab boot --mmu ssp', 'virtlab boot --bios none scenarios/baremetal/bin/traps.elf'],
  notes:
    'The kernel is an ELF (loaded at its physical addresses) or a raw Image (loaded at 0x80200000, where fw_jump jumps); default scenarios/linux/Image. ' +
    "The console (the UART) goes to stdout; the exit status is the guest's power-off status (0 for a clean power-off), 124 when --max-instructions ran out, " +
    '125 when the hart waits for an interrupt nothing can raise, 2 for bad input.',
};
