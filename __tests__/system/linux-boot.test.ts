// The real thing: OpenSBI's fw_jump, the committed Linux 6.1 Image and our initramfs
// boot on the virt-compatible machine to our init, which runs its programs and powers
// off; the console must be QEMU's (scenarios/linux/console.qemu.txt) line for line,
// apart from timestamps. The only heavy thing in its suite (about 100 million
// instructions).
//
// Mutations that break it (checked): the hart offering at most Sv48, as it did before
// Sv57 (Linux 6.1 takes the widest mode satp accepts, and with four levels it reserves
// 8 KiB less: the "Memory:" line differs); and the device tree leaving out the
// virtio-mmio slots (checked).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { committedLinux, LINUX, normalizeConsole } from './linux-console';

it('boots OpenSBI and Linux to our init, runs its programs and powers off, printing what QEMU printed', () => {
  const bytes: number[] = [];
  const m = committedLinux((b) => bytes.push(b));
  const r = m.run(2_000_000_000);
  const ours = normalizeConsole(Buffer.from(bytes).toString('latin1'));
  const qemu = normalizeConsole(readFileSync(join(LINUX, 'console.qemu.txt'), 'latin1'));
  expect(ours).toEqual(qemu);
  expect(r.reason).toBe('poweroff');
  expect(r.status).toBe(0);
});
