// The decoder's operation numbers and the interpreter's copy of them (which its
// dispatch switch needs as literals) agree member for member.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RiscvOp } from 'virtlab';

/** The members of `const enum Op` in a source file, in order (names and, where given, values). */
function enumMembers(file: string): string[] {
  const text = readFileSync(path.resolve(__dirname, '../../../../core/models/riscv', file), 'utf8');
  const body = /const enum Op \{([^}]*)\}/.exec(text)![1];
  return body.split(/[,\n]/).map((m) => m.trim()).filter(Boolean);
}

describe('the RISC-V operation numbers', () => {
  it("are the same in the interpreter's dispatch as in the decoder", () => {
    const decoder = enumMembers('decoder.ts');
    expect(decoder.length).toBeGreaterThan(150);
    expect(enumMembers('interpreter.ts')).toEqual(decoder);
  });

  it('number the operations in order from NONE = 0', () => {
    const names = enumMembers('decoder.ts').map((m) => m.replace(/\s*=.*/, ''));
    names.forEach((name, i) => expect((RiscvOp as Record<string, number>)[name]).toBe(i));
  });
});
