// The real thing: OpenSBI's fw_jump, the committed Linux 6.1 Image and our initramfs
// boot on the virt-compatible machine to our init, which runs its programs and powers
// off; the console must be QEMU's (scenarios/linux/console.qemu.txt) apart from
// timestamps and the reserved memory Sv57 costs under QEMU. The only heavy thing in its
// suite (about 100 million instructions).
//
// Mutation that breaks it (checked): satp accepting the Sv57 mode it does not walk
// (Linux 6.1 probes Sv57 first and keeps it when satp takes it); and the device tree
// leaving out the virtio-mmio slots (checked).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VirtMachine } from '../../core/models/riscv/system/machine';

const LINUX = join(__dirname, '../../scenarios/linux');

/** The console without carriage returns and printk timestamps. */
function normalize(text: string): string[] {
  return text
    .replace(/\r/g, '')
    .split('\n')
    .map((l) => l.replace(/^\[ *\d+\.\d+\] /, ''));
}

/**
 * The one known difference, in the "Memory:" line: QEMU 7.2's hart accepts Sv57, which
 * this one does not model, so under QEMU Linux 6.1 builds five-level tables and reserves
 * 8 KiB more (QEMU booting this kernel with our device tree reserves the same as with its
 * own, so the tree accounts for none of it). Written as that exact gap, so that a change
 * on either side shows.
 */
const SV57_RESERVED_KIB = 8;
function withoutSv57Gap(lines: string[]): string[] {
  return lines.map((l) =>
    l.replace(/^Memory: (\d+)K\/(\d+K) available (\(.*), (\d+)K reserved/, (_, avail, total, mid, reserved) =>
      `Memory: ${Number(avail) - SV57_RESERVED_KIB}K/${total} available ${mid}, ${Number(reserved) + SV57_RESERVED_KIB}K reserved`),
  );
}

it('boots OpenSBI and Linux to our init, runs its programs and powers off, printing what QEMU printed', () => {
  const bytes: number[] = [];
  const m = new VirtMachine({
    kernel: readFileSync(join(LINUX, 'Image')),
    bios: readFileSync(join(LINUX, 'fw_jump.bin')),
    initrd: readFileSync(join(LINUX, 'initramfs.cpio')),
    bootargs: 'console=ttyS0 earlycon initramfs_async=0',
    console: (b) => bytes.push(b),
  });
  const r = m.run(2_000_000_000);
  const ours = withoutSv57Gap(normalize(Buffer.from(bytes).toString('latin1')));
  const qemu = normalize(readFileSync(join(LINUX, 'console.qemu.txt'), 'latin1'));
  expect(ours).toEqual(qemu);
  expect(r.reason).toBe('poweroff');
  expect(r.status).toBe(0);
});
