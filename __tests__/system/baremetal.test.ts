// Bare-metal programs on the virt-compatible machine: each prints what it sees of
// the privileged architecture (traps, delegation, MRET/SRET, PMP, the CLINT timer,
// Sv39/Sv48 with A/D updates) and must print exactly what it printed under
// qemu-system-riscv64 -M virt -bios none (scenarios/baremetal/build.py records it).
//
// Mutations that break these (checked): the walker not setting D on a write (vm:
// "PTE after a write" differs); trap delegation ignoring medeleg/mideleg (both: the
// supervisor's traps are taken in machine mode).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VirtMachine } from '../../core/models/riscv/system/machine';

const DIR = join(__dirname, '../../scenarios/baremetal');

function boot(name: string, chunk?: number): { console: string; status: number; reason: string; instructions: number } {
  const bytes: number[] = [];
  const m = new VirtMachine({ kernel: readFileSync(join(DIR, 'bin', `${name}.elf`)), console: (b) => bytes.push(b) });
  const r = m.run(50_000_000, chunk);
  return { console: Buffer.from(bytes).toString('latin1'), status: r.status, reason: r.reason, instructions: r.instructions };
}

describe.each(['traps', 'vm'])('bare-metal program %s', (name) => {
  it('prints what it printed under qemu-system-riscv64 and powers off with its status', () => {
    const run = boot(name);
    expect(run.console).toBe(readFileSync(join(DIR, 'expected', `${name}.txt`), 'latin1'));
    expect(run.reason).toBe('poweroff');
    expect(run.status).toBe(Number(readFileSync(join(DIR, 'expected', `${name}.status`), 'utf8')));
  });
});

it('gives the same run whatever the chunk of instructions the machine runs at a time', () => {
  const a = boot('traps');
  const b = boot('traps', 7);
  expect(b).toEqual(a);
});
