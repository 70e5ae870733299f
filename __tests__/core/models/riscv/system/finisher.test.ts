// The SiFive test finisher powers off with the status its command carries, resets on
// 0x7777, and ignores anything else.
//
// Mutation that must break these tests: reporting the whole register rather than its
// high half as the failure code (checked: 'powers off with a failure code' fails).
import { Finisher } from '../../../../../core/models/riscv/system/finisher';

function setup() {
  const events: string[] = [];
  const f = new Finisher(
    (status) => events.push(`off ${status}`),
    () => events.push('reset'),
  );
  return { f, events };
}

describe('Finisher', () => {
  it('sits where QEMU virt puts it', () => {
    const { f } = setup();
    expect([f.base, f.size]).toEqual([0x100000, 0x1000]);
  });

  it('powers off with status 0 on 0x5555', () => {
    const { f, events } = setup();
    f.write(0, 4, 0x5555);
    expect(events).toEqual(['off 0']);
  });

  it('powers off with a failure code on 0x3333 | code << 16', () => {
    const { f, events } = setup();
    f.write(0, 4, (42 << 16) | 0x3333);
    f.write(0, 4, 0xffff3333);
    expect(events).toEqual(['off 42', 'off 65535']);
  });

  it('resets on 0x7777', () => {
    const { f, events } = setup();
    f.write(0, 4, 0x7777);
    expect(events).toEqual(['reset']);
  });

  it('ignores other values, other offsets, and reads as zero', () => {
    const { f, events } = setup();
    f.write(0, 4, 0x1234);
    f.write(4, 4, 0x5555);
    f.write(0, 1, 0x55);
    expect(f.read(0, 4)).toBe(0);
    expect(events).toEqual([]);
  });
});
