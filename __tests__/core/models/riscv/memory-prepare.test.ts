// Guest memory made ahead of its process (prepareGuestMemory, GuestProcess.prepare):
// the next GuestMemory of that size takes it, fresh, and no other GuestMemory ever
// gets the same WebAssembly memory, so two guests never share their bytes.
// Mutations that must break it: leaving the taken memory in the prepared map (a second
// GuestMemory of the size would get it too); preparing a memory of another layout than
// the constructor computes (it would never be taken); GuestProcess.prepare not rounding
// the size up as the process does.
import { GuestMemory, prepareGuestMemory } from '../../../../core/models/riscv/memory';
import { Interpreter } from '../../../../core/models/riscv/interpreter';
import { GuestProcess } from '../../../../core/models/riscv/process';

const MIB = 2 ** 20;

describe('guest memory made ahead of its process', () => {
  it('goes to the next GuestMemory of its size only, fresh', () => {
    const size = 3 * MIB;
    prepareGuestMemory(size);
    const first = new GuestMemory(size);
    const second = new GuestMemory(size);
    expect(first.wasm).not.toBe(second.wasm);
    first.u8[0x1234] = 7;
    expect(second.u8[0x1234]).toBe(0);
    // The same layout as a memory made on the spot.
    expect(first.wasm.buffer.byteLength).toBe(second.wasm.buffer.byteLength);
    expect(first.u8.every((b, i) => b === (i === 0x1234 ? 7 : 0))).toBe(true);
  });

  it('is the memory the constructor then uses', () => {
    const size = 5 * MIB;
    // The warm-up (which GuestProcess.prepare runs once) makes memories of its own: done first.
    Interpreter.prepare();
    const made: WebAssembly.Memory[] = [];
    const Memory = WebAssembly.Memory;
    const spy = jest.spyOn(WebAssembly, 'Memory').mockImplementation(((d: WebAssembly.MemoryDescriptor) => {
      const m = new Memory(d);
      made.push(m);
      return m;
    }) as never);
    try {
      prepareGuestMemory(size);
      expect(made).toHaveLength(1);
      const mem = new GuestMemory(size);
      // Taken, not made again.
      expect(made).toHaveLength(1);
      expect(mem.wasm).toBe(made[0]);
      // A process rounds its size up to whole 64 KiB units, and so does its preparation.
      GuestProcess.prepare(7 * MIB - 100);
      expect(made).toHaveLength(2);
      expect(new GuestMemory(7 * MIB).wasm).toBe(made[1]);
    } finally {
      spy.mockRestore();
    }
  });

  it('leaves an invalid size to the GuestMemory to refuse', () => {
    expect(() => prepareGuestMemory(MIB + 1)).not.toThrow();
    expect(() => new GuestMemory(MIB + 1)).toThrow(RangeError);
  });
});
