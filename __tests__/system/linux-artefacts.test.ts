// The committed Linux boot artefacts (scenarios/linux, rebuilt by build.py) agree with
// each other and with their recipe: the Image is a RISC-V Linux image for the address
// fw_jump.bin jumps to, its configuration holds every value of linux.config, the
// initramfs holds init and exactly the programs init.c runs (byte for byte the
// committed ones), and the console recorded under qemu-system-riscv64 shows each
// guest program printing what the guest suite recorded under qemu-riscv64, then init's
// last line and the power-off. No tool is run: this reads files.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { GUESTS_DIR, guestPrograms } from '../../tools/node/guests';

const LINUX_DIR = path.join(GUESTS_DIR, '..', 'linux');
const read = (name: string) => new Uint8Array(readFileSync(path.join(LINUX_DIR, name)));
const text = (name: string) => readFileSync(path.join(LINUX_DIR, name), 'utf8');
const RAM_BASE = 0x8000_0000n;

interface CpioEntry {
  readonly name: string;
  readonly mode: number;
  readonly rdev: [number, number];
  readonly data: Uint8Array;
}

/** The records of an uncompressed newc ("070701") cpio archive, up to its trailer. */
function parseCpio(bytes: Uint8Array): CpioEntry[] {
  const entries: CpioEntry[] = [];
  const ascii = (from: number, n: number) => String.fromCharCode(...bytes.subarray(from, from + n));
  const align = (n: number) => (n + 3) & ~3;
  let off = 0;
  for (;;) {
    if (off + 110 > bytes.length) throw new Error(`cpio: no trailer before the end (offset ${off})`);
    if (ascii(off, 6) !== '070701') throw new Error(`cpio: bad magic at ${off}`);
    const field = (i: number) => parseInt(ascii(off + 6 + 8 * i, 8), 16);
    const [mode, size, rdevMajor, rdevMinor, nameSize] = [field(1), field(6), field(9), field(10), field(11)];
    const name = ascii(off + 110, nameSize - 1);
    const dataStart = align(off + 110 + nameSize);
    if (name === 'TRAILER!!!') return entries;
    entries.push({ name, mode, rdev: [rdevMajor, rdevMinor], data: bytes.subarray(dataStart, dataStart + size) });
    off = align(dataStart + size);
  }
}

/** CONFIG_X -> value ('n' for "is not set"), as build.py reads them. */
function configValues(source: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of source.split('\n')) {
    const set = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (set) values.set(set[1], set[2]);
    const unset = /^# (CONFIG_\w+) is not set$/.exec(line);
    if (unset) values.set(unset[1], 'n');
  }
  return values;
}

/** init.c's table: each program's path and argv. */
function initPrograms(): Array<{ name: string; argv: string[] }> {
  const table = /programs\[\] = \{([\s\S]*?)\n\};/.exec(text('init.c'));
  if (!table) throw new Error('init.c: no programs table');
  return [...table[1].matchAll(/\{ "\/bin\/([\w-]+)", \{ ((?:"[^"]*", )*)NULL \} \}/g)].map((m) => ({
    name: m[1],
    argv: [...m[2].matchAll(/"([^"]*)"/g)].map((a) => a[1]),
  }));
}

const u64 = (b: Uint8Array, off: number) => new DataView(b.buffer, b.byteOffset).getBigUint64(off, true);

describe('the committed Linux boot artefacts', () => {
  it('Image is a RISC-V Linux image loaded where fw_jump.bin jumps', () => {
    const image = read('Image');
    // The RISC-V boot image header (Documentation/riscv/boot-image-header.rst).
    expect(String.fromCharCode(...image.subarray(0x38, 0x3c))).toBe('RSC\x05');
    expect(String.fromCharCode(...image.subarray(0x30, 0x35))).toBe('RISCV');
    const textOffset = u64(image, 8);
    const imageSize = u64(image, 16);
    expect(imageSize).toBeGreaterThanOrEqual(BigInt(image.length));
    // fw_jump's FW_JUMP_ADDR is a doubleword in its code (fw_next_addr loads it); the
    // kernel must sit there, and below FW_JUMP_FDT_ADDR (0x82200000), where OpenSBI
    // copies the DTB.
    const fw = read('fw_jump.bin');
    const jump = RAM_BASE + textOffset;
    const found = Array.from({ length: fw.length / 8 }, (_, i) => u64(fw, 8 * i)).includes(jump);
    expect({ jump: jump.toString(16), found }).toEqual({ jump: '80200000', found: true });
    expect(jump + imageSize).toBeLessThanOrEqual(0x8220_0000n);
  });

  it('the configuration the Image was built with holds every value of linux.config', () => {
    const wanted = configValues(text('linux.config'));
    const built = configValues(text('Image.config'));
    expect(wanted.size).toBeGreaterThan(20);
    const lost = [...wanted].filter(([k, v]) => (built.get(k) ?? 'n') !== v).map(([k, v]) => `${k}=${v} but built ${built.get(k) ?? 'n'}`);
    expect(lost).toEqual([]);
    expect(built.get('CONFIG_PRINTK_TIME') ?? 'n').toBe('n');
  });

  it('the initramfs holds /init, /dev/console and the programs init.c runs, as committed', () => {
    const entries = new Map(parseCpio(read('initramfs.cpio')).map((e) => [e.name, e]));
    const init = entries.get('init');
    expect(init?.mode).toBe(0o100755);
    // A static riscv64 executable: ELF64, little-endian, EM_RISCV, ET_EXEC.
    expect([...init!.data.subarray(0, 6)]).toEqual([0x7f, 0x45, 0x4c, 0x46, 2, 1]);
    expect(new DataView(init!.data.buffer, init!.data.byteOffset).getUint16(16, true)).toBe(2);
    expect(new DataView(init!.data.buffer, init!.data.byteOffset).getUint16(18, true)).toBe(243);
    expect(entries.get('dev/console')).toMatchObject({ mode: 0o020600, rdev: [5, 1] });
    expect(entries.get('proc')?.mode).toBe(0o040555);

    const programs = initPrograms();
    expect(programs.map((p) => p.name)).toContain('forkmap');
    const inBin = [...entries.keys()].filter((n) => n.startsWith('bin/')).map((n) => n.slice(4));
    expect(inBin.sort()).toEqual(programs.map((p) => p.name).sort());
    for (const { name } of programs) {
      const committed = path.join(GUESTS_DIR, 'bin', `${name}.elf`);
      if (existsSync(committed)) expect(Buffer.from(entries.get(`bin/${name}`)!.data).equals(readFileSync(committed))).toBe(true);
    }
  });

  it('fw_jump.bin ships with its licence', () => {
    expect(read('fw_jump.bin').length).toBeGreaterThan(64 * 1024);
    const licence = text('fw_jump.LICENSE');
    expect(licence).toMatch(/Upstream-Name: opensbi/);
    expect(licence).toMatch(/License: BSD-2-clause/);
  });

  it('the DTB QEMU generated is a flattened device tree for one hart with the initrd', () => {
    const dtb = read('qemu-virt.dtb');
    expect(new DataView(dtb.buffer, dtb.byteOffset).getUint32(0, false)).toBe(0xd00dfeed);
    const dts = text('qemu-virt.dts');
    expect(dts).toMatch(/linux,initrd-start/);
    expect(dts).toMatch(/bootargs = "console=ttyS0 earlycon initramfs_async=0"/);
    expect(dts.match(/cpu@\d+ \{/g)).toEqual(['cpu@0 {']);
  });

  it('the console recorded under QEMU shows every program printing what qemu-riscv64 recorded, then the power-off', () => {
    const console = text('console.qemu.txt');
    const suite = new Map(guestPrograms().map((p) => [p.name, p]));
    const lines = console.trimEnd().split('\n');
    expect(lines).toContain('init: virtlab initramfs, PID 1');
    for (const { name, argv } of initPrograms()) {
      const program = suite.get(name);
      if (!program) {
        // Our own program: it ran and exited normally.
        expect(lines).toContain(`init: ${name} exited with status 0`);
        continue;
      }
      // The suite's case with the same arguments: its output and status, exactly.
      const c = program.cases.find((k) => JSON.stringify(k.args ?? []) === JSON.stringify(argv.slice(1)));
      expect({ name, case: c?.id ?? 'none' }).not.toEqual({ name, case: 'none' });
      const base = path.join(GUESTS_DIR, 'expected', `${name}.${c!.id}`);
      const stdout = readFileSync(`${base}.stdout`, 'utf8');
      const status = Number(readFileSync(`${base}.status`, 'utf8').trim());
      expect(console).toContain(`${stdout}init: ${name} exited with status ${status}\n`);
    }
    // init's last line, then only the kernel's power-off.
    const final = lines.lastIndexOf('init: all programs done, powering off');
    expect(final).toBeGreaterThan(0);
    expect(lines.slice(final + 1)).toEqual(['reboot: Power down']);
  });
});
