// The ELF loader for static RISC-V Linux executables (non-PIE and static-PIE): maps
// the PT_LOAD segments into guest memory with their permissions and builds the
// initial stack (argc, argv, envp, auxv) as the Linux kernel does. Anything else —
// another machine, a dynamically linked program, a truncated or corrupt file — is
// refused with a GuestLoadError that names the file and says why.

import { GuestMemory, PAGE_SIZE, PERM_MAPPED, PERM_R, PERM_W, PERM_X, PIE_BASE } from './memory';

/** A program the loader refuses: bad input, not a bug. The message starts with the file's name. */
export class GuestLoadError extends Error {
  constructor(
    readonly reason: string,
    readonly file?: string,
  ) {
    super(file ? `${file}: ${reason}` : reason);
  }
}

const MACHINES: Record<number, string> = {
  3: 'x86 (i386)', 8: 'MIPS', 20: 'PowerPC', 21: 'PowerPC64', 40: 'ARM', 62: 'x86-64', 183: 'AArch64', 243: 'RISC-V', 258: 'LoongArch',
};

export interface LoadedImage {
  readonly entry: number;
  /** First address after the highest segment, page-aligned: the initial program break. */
  readonly brk: number;
  /** Address of the program headers in memory (AT_PHDR). */
  readonly phdr: number;
  readonly phnum: number;
  readonly base: number;
}

const PT_LOAD = 1;
const PT_INTERP = 3;
const PT_PHDR = 6;

/** Maps an ELF image into memory; `file` (the program's path) is named in every refusal. */
export function loadElf(bytes: Uint8Array, mem: GuestMemory, file?: string): LoadedImage {
  if (bytes.length < 64) throw new GuestLoadError(`not an ELF file: only ${bytes.length} bytes`, file);
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) throw new GuestLoadError('not an ELF file (bad magic number)', file);
  if (bytes[4] !== 2) throw new GuestLoadError('not a 64-bit ELF file (ELFCLASS32); build for riscv64', file);
  if (bytes[5] !== 1) throw new GuestLoadError('not a little-endian ELF file', file);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = dv.getUint16(16, true);
  const machine = dv.getUint16(18, true);
  if (machine !== 243) throw new GuestLoadError(`built for ${MACHINES[machine] ?? `machine ${machine}`}, not RISC-V`, file);
  if (type !== 2 && type !== 3) throw new GuestLoadError(`not an executable (ELF type ${type})`, file);
  const entry = Number(dv.getBigUint64(24, true));
  const phoff = Number(dv.getBigUint64(32, true));
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  if (phentsize !== 56 || phnum === 0 || phoff + phnum * 56 > bytes.length) throw new GuestLoadError('corrupt ELF program headers', file);
  const base = type === 3 ? PIE_BASE : 0;
  let brk = 0;
  let phdr = 0;
  let firstLoad: { vaddr: number; offset: number } | undefined;
  const loads: Array<{ vaddr: number; memsz: number; filesz: number; offset: number; flags: number }> = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * 56;
    const ptype = dv.getUint32(o, true);
    const flags = dv.getUint32(o + 4, true);
    const offset = Number(dv.getBigUint64(o + 8, true));
    const vaddr = Number(dv.getBigUint64(o + 16, true)) + base;
    const filesz = Number(dv.getBigUint64(o + 32, true));
    const memsz = Number(dv.getBigUint64(o + 40, true));
    if (ptype === PT_INTERP) throw new GuestLoadError('dynamically linked (it asks for an interpreter); build with -static', file);
    if (ptype === PT_PHDR) phdr = vaddr;
    if (ptype !== PT_LOAD) continue;
    if (offset + filesz > bytes.length) throw new GuestLoadError(`segment ${i} lies outside the file (truncated ELF)`, file);
    if (filesz > memsz) throw new GuestLoadError(`segment ${i} is larger in the file than in memory`, file);
    if (vaddr < PAGE_SIZE || vaddr + memsz > mem.size / 2) throw new GuestLoadError(`segment ${i} at 0x${vaddr.toString(16)} does not fit the guest address space`, file);
    firstLoad ??= { vaddr, offset };
    loads.push({ vaddr, memsz, filesz, offset, flags });
  }
  if (!loads.length) throw new GuestLoadError('no loadable segments', file);
  for (const l of loads) {
    const start = Math.floor(l.vaddr / PAGE_SIZE) * PAGE_SIZE;
    const end = Math.ceil((l.vaddr + l.memsz) / PAGE_SIZE) * PAGE_SIZE;
    const perm = PERM_MAPPED | (l.flags & 4 ? PERM_R : 0) | (l.flags & 2 ? PERM_W : 0) | (l.flags & 1 ? PERM_X : 0);
    // Pages shared by two segments get the union of their permissions.
    for (let p = start / PAGE_SIZE; p < end / PAGE_SIZE; p++) mem.perm[p] |= perm;
    mem.u8.set(bytes.subarray(l.offset, l.offset + l.filesz), l.vaddr);
    brk = Math.max(brk, end);
  }
  if (!phdr && firstLoad) phdr = firstLoad.vaddr + phoff - firstLoad.offset;
  return { entry: entry + base, brk, phdr, phnum, base };
}

export interface StackSetup {
  readonly argv: readonly string[];
  readonly envp: readonly string[];
  readonly execfn: string;
  readonly random: Uint8Array;
  readonly image: LoadedImage;
}

const AT = { NULL: 0, PHDR: 3, PHENT: 4, PHNUM: 5, PAGESZ: 6, BASE: 7, FLAGS: 8, ENTRY: 9, UID: 11, EUID: 12, GID: 13, EGID: 14, PLATFORM: 15, HWCAP: 16, CLKTCK: 17, SECURE: 23, RANDOM: 25, EXECFN: 31 };

/** Writes the initial stack below `top` and returns the initial stack pointer. */
export function buildStack(mem: GuestMemory, top: number, s: StackSetup): number {
  const enc = new TextEncoder();
  let sp = top;
  const put = (bytes: Uint8Array) => {
    sp -= bytes.length;
    mem.u8.set(bytes, sp);
    return sp;
  };
  const putString = (str: string) => put(enc.encode(str + '\0'));
  const execfn = putString(s.execfn);
  const platform = putString('riscv64');
  const argvPtrs = s.argv.map(putString);
  const envPtrs = s.envp.map(putString);
  sp &= ~15;
  const random = put(s.random.slice(0, 16));
  sp &= ~15;
  const hwcap = (1 << ('i'.charCodeAt(0) - 97)) | (1 << ('m'.charCodeAt(0) - 97)) | (1 << ('a'.charCodeAt(0) - 97)) | (1 << ('f'.charCodeAt(0) - 97)) | (1 << ('d'.charCodeAt(0) - 97)) | (1 << ('c'.charCodeAt(0) - 97));
  const auxv: Array<[number, number]> = [
    [AT.PHDR, s.image.phdr], [AT.PHENT, 56], [AT.PHNUM, s.image.phnum], [AT.PAGESZ, PAGE_SIZE], [AT.BASE, 0], [AT.FLAGS, 0],
    [AT.ENTRY, s.image.entry], [AT.UID, 1000], [AT.EUID, 1000], [AT.GID, 1000], [AT.EGID, 1000], [AT.HWCAP, hwcap],
    [AT.CLKTCK, 100], [AT.SECURE, 0], [AT.RANDOM, random], [AT.EXECFN, execfn], [AT.PLATFORM, platform], [AT.NULL, 0],
  ];
  const words = 1 + argvPtrs.length + 1 + envPtrs.length + 1 + auxv.length * 2;
  sp -= words * 8;
  sp &= ~15;
  let p = sp;
  const word = (v: number) => {
    mem.dv.setBigUint64(p, BigInt(v), true);
    p += 8;
  };
  word(argvPtrs.length);
  for (const a of argvPtrs) word(a);
  word(0);
  for (const e of envPtrs) word(e);
  word(0);
  for (const [k, v] of auxv) {
    word(k);
    word(v);
  }
  return sp;
}
