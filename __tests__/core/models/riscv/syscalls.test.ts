// The Linux system call table: every handler is reachable through the rv64 numbering,
// and names and numbers map one to one.
import { LINUX_SYSCALLS, RV64_SYSCALL_NAMES, RV64_SYSCALLS, syscallName } from '../../../../core/models/riscv/syscalls';

describe('the rv64 Linux system call table', () => {
  it('reaches every handler through a number', () => {
    const numbered = new Set(Object.values(RV64_SYSCALL_NAMES));
    expect(Object.keys(LINUX_SYSCALLS).filter((name) => !numbered.has(name))).toEqual([]);
  });

  it('gives each number its own name', () => {
    const names = Object.values(RV64_SYSCALL_NAMES);
    expect(new Set(names).size).toBe(names.length);
  });

  it('dispatches a number to the handler of its name, and names unknown numbers', () => {
    expect(RV64_SYSCALLS[64]).toBe(LINUX_SYSCALLS.write);
    expect(RV64_SYSCALLS[94]).toBe(LINUX_SYSCALLS.exit_group);
    expect(RV64_SYSCALLS[293]).toBeUndefined(); // rseq: named, answered -ENOSYS
    expect(syscallName(172)).toBe('getpid');
    expect(syscallName(999)).toBe('syscall 999');
  });
});

describe('Linux semantics where qemu-riscv64 differs (documented in the README)', () => {
  // A process stand-in: these handlers refuse their arguments before touching memory.
  const call = (name: string, args: number[]) => {
    const p = { arg: (i: number) => args[i] ?? 0, argInt: (i: number) => (args[i] ?? 0) | 0, cpu: { flushCode: () => {} } };
    return LINUX_SYSCALLS[name](p as never);
  };

  it('answers set_robust_list with 0 for the kernel struct size and EINVAL otherwise', () => {
    expect(call('set_robust_list', [0x1000, 24])).toBe(0);
    expect(call('set_robust_list', [0x1000, 8])).toBe(-22);
  });

  it('refuses unknown madvise advice and riscv_flush_icache flags with EINVAL', () => {
    expect(call('madvise', [0x10000, 4096, 12345])).toBe(-22);
    expect(call('madvise', [0x10001, 4096, 4])).toBe(-22);
    expect(call('riscv_flush_icache', [0, 0, 2])).toBe(-22);
    expect(call('riscv_flush_icache', [0, 0, 1])).toBe(0);
  });
});
