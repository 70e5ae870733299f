// operandsInto, the allocation-free form of operands that dce and the emitter's alias
// analysis walk with: it must name the same values, in the same order, for every kind.
// Mutation that breaks it: dropping the FP row's "b and c only when not −1" bit (8) in
// OPERAND_FIELDS, or an operand bit of any kind.

import { Inst, operands, operandsInto } from '../../core/models/dbt/ir';

describe('operandsInto', () => {
  test('names what operands names, for every kind (FP with and without b and c, INTERP by its reads)', () => {
    const out = new Int32Array(64);
    const cases: Inst[] = [];
    for (let k = 1; k <= 18; k++) cases.push(new Inst(k, 0, 100, 11, 12, 13, 0, 0, 0));
    // FP (15) with one and with two absent operands.
    cases.push(new Inst(15, 0, 100, 11, -1, -1, 0, 0, 0), new Inst(15, 0, 100, 11, 12, -1, 0, 0, 0));
    const interp = new Inst(18, 0, -1, -1, -1, -1, 0, 0, 0);
    interp.reads = [
      { file: 0, reg: 5, value: 21 },
      { file: 1, reg: 2, value: 22 },
    ];
    interp.writes = [];
    cases.push(interp);
    let some = 0;
    for (const i of cases) {
      if (i.k === 18 && !i.reads) i.reads = [];
      const n = operandsInto(i, out);
      expect([...out.subarray(0, n)]).toEqual(operands(i));
      some += n;
    }
    expect(some).toBeGreaterThan(20);
  });
});
