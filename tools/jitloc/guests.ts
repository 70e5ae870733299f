// Guest programs that expose the passes' injected bugs (and the third-party pass of
// the localization tests), built with the test assembler (tools/node/rv-asm.ts).
// Each computes a small kernel on a value read from its data page — so that the
// translator cannot fold it all away — stores the result, writes it to standard
// output and exits. Run correctly, each prints the same eight bytes under every
// engine; with the bug injected, the optimizing translator's output differs.

import { Assembler, elf } from '../node/rv-asm';

const TEXT = 0x10000;
const DATA = 0x40000;
const [RA, SP, T0, T1, S0, A0, A1, A2, A3, A4, A5, A7] = [1, 2, 5, 6, 8, 10, 11, 12, 13, 14, 15, 17];
const LD = 3;
const SD = 3;
const SB = 0;

/** The program around a kernel: s0 = the data page (opaque to the translator); result at 64(s0). */
function program(kernel: (a: Assembler) => void, functions: (a: Assembler) => void = () => {}): Uint8Array {
  const a = new Assembler(TEXT);
  a.lui(S0, DATA >>> 12);
  a.load(LD, T0, S0, 0); // zero, read from memory
  a.op(0, 0, S0, S0, T0);
  kernel(a);
  a.jal(RA, 'finish');
  functions(a);
  // write(1, s0 + 64, 8); exit_group(0): a unit of its own, apart from the kernel's.
  a.label('finish');
  a.addi(A0, 0, 1);
  a.addi(A1, S0, 64);
  a.addi(A2, 0, 8);
  a.addi(A7, 0, 64);
  a.ecall();
  a.addi(A7, 0, 94);
  a.addi(A0, 0, 0);
  a.ecall();
  const data = new Uint8Array(4096);
  const dv = new DataView(data.buffer);
  dv.setBigUint64(8, 0x0123456789abcdefn, true);
  dv.setBigUint64(16, 0x1122334455667788n, true);
  return elf(TEXT, [
    { vaddr: TEXT, bytes: a.finish(), flags: 5 },
    { vaddr: DATA, bytes: data, flags: 6 },
  ]);
}

/** fold's add-chain meets a negative immediate: (x + 100) − 36. */
export function immSignGuest(): Uint8Array {
  return program((a) => {
    a.load(LD, A1, S0, 8);
    a.addi(A2, A1, 100);
    a.addi(A3, A2, -36);
    a.opImm(4, A4, A3, 0x55); // xori
    a.shiftImm('slli', A5, A4, 3);
    a.op(0, 0, A5, A5, A1);
    a.store(SD, A5, S0, 64);
  });
}

/** fold's const-eval meets a 64-bit shift by more than 31: 0x12345000 << 40. */
export function shiftMaskGuest(): Uint8Array {
  return program((a) => {
    a.load(LD, A1, S0, 8);
    a.lui(A2, 0x12345);
    a.shiftImm('slli', A3, A2, 40);
    a.op(0, 0, A4, A3, A1);
    a.shiftImm('srli', A5, A4, 7);
    a.store(SD, A5, S0, 64);
  });
}

/** rle meets a byte store into a doubleword it loaded, then the doubleword again. */
export function widthAliasGuest(): Uint8Array {
  return program((a) => {
    a.load(LD, A1, S0, 16);
    a.addi(A2, A1, 1);
    a.store(SB, A2, S0, 16);
    a.load(LD, A3, S0, 16);
    a.op(0, 0, A4, A3, A1);
    a.store(SD, A4, S0, 64);
  });
}

/** dce meets a callee that leaves its result in its caller's stack slot. */
export function crossUnitStoreGuest(): Uint8Array {
  return program(
    (a) => {
      a.addi(SP, SP, -16);
      a.load(LD, A0, S0, 8);
      a.jal(RA, 'f');
      a.load(LD, A1, SP, 0);
      a.op(0, 0, A1, A1, A0);
      a.store(SD, A1, S0, 64);
      a.addi(SP, SP, 16);
    },
    (a) => {
      // f reads argc above its caller's frame, and leaves its result in the caller's slot.
      a.label('f');
      a.load(LD, T1, SP, 16);
      a.addi(T0, A0, 7);
      a.op(0, 0, T0, T0, T1);
      a.shiftImm('slli', T0, T0, 2);
      a.store(SD, T0, SP, 0);
      a.jalr(0, RA, 0);
    },
  );
}

/**
 * Two functions with a bug each: one where fold's add-chain meets a negative
 * immediate, one where rle loads a doubleword across a narrower store into it.
 */
export function twoBugGuest(): Uint8Array {
  return program(
    (a) => {
      a.jal(RA, 'chain');
      a.jal(RA, 'alias');
      a.load(LD, A4, S0, 72);
      a.op(0, 4, A4, A4, A3); // xor of both results
      a.store(SD, A4, S0, 64);
    },
    (a) => {
      a.label('chain');
      a.load(LD, A1, S0, 8);
      a.addi(A2, A1, 100);
      a.addi(A3, A2, -36);
      a.opImm(4, A3, A3, 0x55); // xori
      a.jalr(0, RA, 0);
      a.label('alias');
      a.load(LD, A1, S0, 16);
      a.addi(A2, A1, 1);
      a.store(SB, A2, S0, 16);
      a.load(LD, A5, S0, 16);
      a.op(0, 0, A5, A5, A1);
      a.store(SD, A5, S0, 72);
      a.jalr(0, RA, 0);
    },
  );
}

/** Multiplications by 4 and by −8: what a strength-reduction pass rewrites. */
export function strengthGuest(): Uint8Array {
  return program((a) => {
    a.load(LD, A1, S0, 8);
    a.addi(T0, 0, 4);
    a.op(1, 0, A2, A1, T0); // mul
    a.addi(T1, 0, -8);
    a.op(1, 0, A3, A1, T1); // mul
    a.op(0, 0, A4, A2, A3);
    a.store(SD, A4, S0, 64);
  });
}

/** The injected bugs of dbt.instrew with the guest that exposes each and the pass and rule it is in. */
export const INJECTED: ReadonlyArray<{ readonly inject: string; readonly pass: string; readonly rule: string; readonly guest: () => Uint8Array }> = [
  { inject: 'fold:imm-sign', pass: 'dbt.instrew/fold', rule: 'add-chain', guest: immSignGuest },
  { inject: 'fold:shift-mask', pass: 'dbt.instrew/fold', rule: 'const-eval', guest: shiftMaskGuest },
  { inject: 'rle:width-alias', pass: 'dbt.instrew/rle', rule: 'load-load', guest: widthAliasGuest },
  { inject: 'dce:cross-unit-store', pass: 'dbt.instrew/dce', rule: 'dead-store', guest: crossUnitStoreGuest },
];
