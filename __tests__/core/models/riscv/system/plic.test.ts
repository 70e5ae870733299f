// The PLIC as the RISC-V PLIC spec and Linux's irq-sifive-plic driver see it: priorities,
// per-context enables and thresholds, claim returning the highest-priority pending
// enabled source (lowest id on ties), level-triggered gateways that hold a claimed
// source until its completion, and context 0 → MEIP, context 1 → SEIP.
//
// Mutation that must break these tests: not taking a claimed source off pending until
// completion (refreshPending ignoring inService) — checked: 'holds a claimed source
// until it is completed' fails.
import type { InterruptLines } from '../../../../../core/models/riscv/system/bus';
import { Plic, PLIC_CLAIM, PLIC_CONTEXT, PLIC_CONTEXT_STRIDE, PLIC_ENABLE, PLIC_ENABLE_STRIDE, PLIC_PENDING } from '../../../../../core/models/riscv/system/plic';

const MEIP = 11;
const SEIP = 9;

class Lines implements InterruptLines {
  // The hart's mip out of reset.
  readonly level = new Map<number, boolean>([
    [MEIP, false],
    [SEIP, false],
  ]);
  set(bit: number, level: boolean): void {
    this.level.set(bit, level);
  }
}

function setup() {
  const lines = new Lines();
  const plic = new Plic(lines);
  const prio = (s: number, p: number) => plic.write(4 * s, 4, p);
  const enable = (ctx: number, ...sources: number[]) => {
    for (const s of sources) {
      const off = PLIC_ENABLE + ctx * PLIC_ENABLE_STRIDE + 4 * (s >>> 5);
      plic.write(off, 4, plic.read(off, 4) | (1 << (s & 31)));
    }
  };
  const disable = (ctx: number, s: number) => {
    const off = PLIC_ENABLE + ctx * PLIC_ENABLE_STRIDE + 4 * (s >>> 5);
    plic.write(off, 4, plic.read(off, 4) & ~(1 << (s & 31)));
  };
  const threshold = (ctx: number, t: number) => plic.write(PLIC_CONTEXT + ctx * PLIC_CONTEXT_STRIDE, 4, t);
  const claim = (ctx: number) => plic.read(PLIC_CONTEXT + ctx * PLIC_CONTEXT_STRIDE + PLIC_CLAIM, 4);
  const complete = (ctx: number, s: number) => plic.write(PLIC_CONTEXT + ctx * PLIC_CONTEXT_STRIDE + PLIC_CLAIM, 4, s);
  const pending = (s: number) => (plic.read(PLIC_PENDING + 4 * (s >>> 5), 4) >>> (s & 31)) & 1;
  return { lines, plic, prio, enable, disable, threshold, claim, complete, pending };
}

describe('Plic', () => {
  it('sits where QEMU virt puts it', () => {
    const { plic } = setup();
    expect([plic.base, plic.size]).toEqual([0xc000000, 0x600000]);
  });

  it('signals S-mode external interrupts through context 1 only when enabled and above threshold', () => {
    const { lines, plic, prio, enable, threshold } = setup();
    plic.setLevel(10, true);
    expect(lines.level.get(SEIP)).toBe(false); // priority 0 never interrupts
    prio(10, 1);
    expect(lines.level.get(SEIP)).toBe(false); // not enabled
    enable(1, 10);
    expect(lines.level.get(SEIP)).toBe(true);
    expect(lines.level.get(MEIP)).toBe(false);
    threshold(1, 1);
    expect(lines.level.get(SEIP)).toBe(false); // priority must exceed the threshold
    threshold(1, 0);
    expect(lines.level.get(SEIP)).toBe(true);
    plic.setLevel(10, false);
    expect(lines.level.get(SEIP)).toBe(false);
  });

  it('drives MEIP from context 0', () => {
    const { lines, plic, prio, enable } = setup();
    prio(1, 2);
    enable(0, 1);
    plic.setLevel(1, true);
    expect(lines.level.get(MEIP)).toBe(true);
    expect(lines.level.get(SEIP)).toBe(false);
  });

  it('claims the highest priority first, and the lowest id among equals', () => {
    const { plic, prio, enable, claim, complete } = setup();
    for (const s of [3, 7, 40, 95]) {
      prio(s, s === 40 ? 5 : 2);
      enable(1, s);
      plic.setLevel(s, true);
    }
    const order: number[] = [];
    for (let i = 0; i < 5; i++) order.push(claim(1));
    expect(order).toEqual([40, 3, 7, 95, 0]);
    for (const s of order) complete(1, s);
  });

  it('holds a claimed source until it is completed, then re-raises a line still high', () => {
    const { lines, plic, prio, enable, claim, complete, pending } = setup();
    prio(10, 1);
    enable(1, 10);
    plic.setLevel(10, true);
    expect(pending(10)).toBe(1);
    expect(claim(1)).toBe(10);
    expect(pending(10)).toBe(0);
    expect(lines.level.get(SEIP)).toBe(false);
    expect(claim(1)).toBe(0);
    complete(1, 10);
    expect(pending(10)).toBe(1);
    expect(lines.level.get(SEIP)).toBe(true);
    expect(claim(1)).toBe(10);
    plic.setLevel(10, false);
    complete(1, 10);
    expect(pending(10)).toBe(0);
    expect(lines.level.get(SEIP)).toBe(false);
  });

  it('ignores a completion for a source not enabled in that context', () => {
    const { plic, prio, enable, disable, claim, complete, pending } = setup();
    prio(10, 1);
    enable(1, 10);
    plic.setLevel(10, true);
    expect(claim(1)).toBe(10);
    disable(1, 10);
    complete(1, 10);
    expect(pending(10)).toBe(0); // still in service
    // What Linux's plic_irq_eoi does for a masked source: unmask, complete, mask.
    enable(1, 10);
    complete(1, 10);
    expect(pending(10)).toBe(1);
  });

  it('keeps priorities to 3 bits, hardwires source 0, and refuses sources it does not have', () => {
    const { plic, prio } = setup();
    prio(5, 0xff);
    expect(plic.read(4 * 5, 4)).toBe(7);
    prio(0, 3);
    expect(plic.read(0, 4)).toBe(0);
    plic.write(PLIC_ENABLE + PLIC_ENABLE_STRIDE, 4, 0xffffffff);
    expect(plic.read(PLIC_ENABLE + PLIC_ENABLE_STRIDE, 4)).toBe(0xfffffffe);
    // A byte write replaces only its byte of the register.
    plic.write(PLIC_ENABLE + PLIC_ENABLE_STRIDE + 1, 1, 0x04);
    expect(plic.read(PLIC_ENABLE + PLIC_ENABLE_STRIDE, 4)).toBe(0xffff04fe);
    expect(plic.read(PLIC_ENABLE + PLIC_ENABLE_STRIDE + 1, 1)).toBe(0x04);
    expect(plic.read(PLIC_CONTEXT + PLIC_CONTEXT_STRIDE, 4)).toBe(0);
    expect(() => plic.setLevel(96, true)).toThrow(/source 96/);
    expect(() => plic.setLevel(0, true)).toThrow(/source 0/);
  });

  it('does not claim on a narrow read of claim/complete', () => {
    const { plic, prio, enable, claim } = setup();
    prio(10, 1);
    enable(1, 10);
    plic.setLevel(10, true);
    expect(plic.read(PLIC_CONTEXT + PLIC_CONTEXT_STRIDE + PLIC_CLAIM, 1)).toBe(0);
    expect(claim(1)).toBe(10);
  });
});
