// The ELF loader refuses what it cannot run, saying why; and a process's state
// survives a snapshot.
import { readFileSync } from 'node:fs';
import { GuestProcess, GuestLoadError } from '../../../../core/models/riscv/process';

const elf = () => new Uint8Array(readFileSync('scenarios/guests/bin/crc32.elf'));
const options = (out: Uint8Array[] = []) => ({
  memoryBytes: 64 * 2 ** 20,
  stackBytes: 1 << 20,
  maxInstructions: 0,
  argv: ['crc32', '3'],
  envp: [],
  programPath: 'crc32',
  files: new Map<string, Uint8Array>(),
  readStdin: () => null,
  writeStdout: (b: Uint8Array) => void out.push(b.slice()),
  writeStderr: () => {},
  now: () => 0,
  randomBytes: (o: Uint8Array) => o.fill(7),
});

function refusal(bytes: Uint8Array): string {
  try {
    new GuestProcess(options()).load(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(GuestLoadError);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('the ELF loader', () => {
  it('refuses a file that is not ELF, or truncated', () => {
    expect(refusal(new TextEncoder().encode('#!/bin/sh\necho hi\n'.repeat(10)))).toMatch(/not an ELF file/);
    expect(refusal(elf().slice(0, 40))).toMatch(/only 40 bytes/);
    expect(refusal(elf().slice(0, 2000))).toMatch(/outside the file \(truncated ELF\)/);
  });

  it('refuses another machine, naming it', () => {
    const b = elf();
    b[18] = 62;
    b[19] = 0;
    expect(refusal(b)).toMatch(/built for x86-64, not RISC-V/);
  });

  it('refuses 32-bit and big-endian files, and dynamically linked programs', () => {
    const b32 = elf();
    b32[4] = 1;
    expect(refusal(b32)).toMatch(/not a 64-bit ELF/);
    const be = elf();
    be[5] = 2;
    expect(refusal(be)).toMatch(/not a little-endian/);
    const dyn = elf();
    const dv = new DataView(dyn.buffer);
    const phoff = Number(dv.getBigUint64(32, true));
    dv.setUint32(phoff, 3, true); // turn the first program header into PT_INTERP
    expect(refusal(dyn)).toMatch(/dynamically linked.*-static/);
  });
});

describe('a guest process', () => {
  it('continues identically after its state is saved and restored into a new process', () => {
    const outA: Uint8Array[] = [];
    const a = new GuestProcess(options(outA));
    a.load(elf());
    a.run(1_000_000);
    const saved = structuredClone(a.saveState());
    const statusA = (() => {
      let s = a.run(1e9);
      while (s.state === 'running') s = a.run(1e9);
      return s;
    })();
    const outB: Uint8Array[] = [];
    const b = new GuestProcess(options(outB));
    b.load(elf());
    b.loadState(saved);
    let s = b.run(1e9);
    while (s.state === 'running') s = b.run(1e9);
    expect(s).toEqual(statusA);
    expect(b.instructions).toBe(a.instructions);
    const text = (parts: Uint8Array[]) => parts.map((p) => new TextDecoder().decode(p)).join('');
    expect(text(outB)).toBe(text(outA));
    expect(text(outA)).toMatch(/^crc32 table [0-9a-f]{8} bitwise [0-9a-f]{8}\n$/);
  });
});
