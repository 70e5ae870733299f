// What the Linux boot tests share: the committed firmware, kernel and initramfs on the
// virt machine with the recorded QEMU boot's command line, and the console as they
// compare it with QEMU's (without carriage returns and printk timestamps).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VirtMachine, type HartEngine } from '../../core/models/riscv/system/machine';

export const LINUX = join(__dirname, '../../scenarios/linux');

export function committedLinux(console: (byte: number) => void, engine?: HartEngine): VirtMachine {
  return new VirtMachine({
    kernel: readFileSync(join(LINUX, 'Image')),
    bios: readFileSync(join(LINUX, 'fw_jump.bin')),
    initrd: readFileSync(join(LINUX, 'initramfs.cpio')),
    bootargs: 'console=ttyS0 earlycon initramfs_async=0',
    console,
    engine,
  });
}

export function normalizeConsole(text: string): string[] {
  return text
    .replace(/\r/g, '')
    .split('\n')
    .map((l) => l.replace(/^\[ *\d+\.\d+\] /, ''));
}
