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
