// workload.linux with tiny machine-mode kernels instead of Linux (the boot of the real
// kernel is in __tests__/system/linux-vm*.test.ts): how a VM ends — a failing
// power-off status, a reset, a hang, a machine still running — is what the metrics
// and the summary say; the console's UART receives the workload's stdin; the machine
// runs at the VM's host clock; and a snapshot of a running machine is refused.
//
// Mutations that must break it: counting a power-off with a non-zero status as a
// success (linux.failed); not feeding stdin to the UART (the echo kernel never sees
// its newline and never powers off); granting cycles at 1 GHz rather than at the
// host's clock (the spin kernel's instructions).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Simulation } from '../../core/simulation';
import { loadScenarioFile } from '../../tools/node/scenario-file';
import { Assembler } from '../../tools/node/rv-asm';
import { KERNEL_BASE } from '../../core/models/riscv/system/machine';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'virtlab-workload-linux-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const T0 = 5;
const T1 = 6;
const UART = 0x10000000;
const FINISHER = 0x100000;

/** A raw image run in M-mode at KERNEL_BASE (bios: none), written to the temporary folder. */
function kernel(name: string, body: (a: Assembler) => void): string {
  const a = new Assembler(KERNEL_BASE);
  body(a);
  const file = path.join(tmp, `${name}.bin`);
  writeFileSync(file, a.finish());
  return file;
}

/** Writes `value` to the test finisher (power-off or reset). */
function finish(a: Assembler, value: number): void {
  a.lui(T0, FINISHER >>> 12);
  a.lui(T1, value >>> 12); // the low parts used here are below 0x800: addi adds them unsigned
  a.addi(T1, T1, value & 0xfff);
  a.store(2, T1, T0, 0);
  a.label('stay');
  a.jal(0, 'stay');
}

// Echoes the UART's input to its output up to a newline, then powers off with failure 3.
const echo = kernel('echo', (a) => {
  a.lui(T0, UART >>> 12);
  a.label('poll');
  a.load(4, T1, T0, 5); // LSR
  a.opImm(7, T1, T1, 1); // data ready?
  a.branch(0, T1, 0, 'poll');
  a.load(4, T1, T0, 0); // RBR
  a.store(0, T1, T0, 0); // THR
  a.addi(7, 0, 10);
  a.branch(1, T1, 7, 'poll');
  finish(a, 0x3333 | (3 << 16));
});
const reset = kernel('reset', (a) => finish(a, 0x7777));
// WFI with every interrupt disabled and no timer armed: nothing can wake it.
const hang = kernel('hang', (a) => {
  a.label('again');
  a.word(0x10500073);
  a.jal(0, 'again');
});
const spin = kernel('spin', (a) => {
  a.label('spin');
  a.jal(0, 'spin');
});

function scenarioWith(duration: string): string {
  const vm = (name: string, k: string, extra = '') => `  - name: ${name}\n    memory: 16MiB\n    workload: { kind: linux, kernel: ${k}, bios: none${extra} }\n`;
  const text =
    `name: linux-ends\ntick: 1ms\nduration: ${duration}\nhosts:\n  - { profile: riscv-board, racks: 1, perRack: 1 }\nvms:\n` +
    vm('echo', echo, ', stdin: "hello, machine\\n", expectLines: ["hello, machine"]') +
    vm('reset', reset) +
    vm('hang', hang) +
    vm('spin', spin) +
    'plugins:\n  workload.linux: {}\n';
  const file = path.join(tmp, `linux-ends-${duration}.scenario.yaml`);
  writeFileSync(file, text);
  return file;
}

async function boot(duration: string): Promise<Simulation> {
  const { scenario, catalog, files } = loadScenarioFile(scenarioWith(duration));
  return Simulation.create({ scenario, catalog, files });
}

describe('workload.linux', () => {
  it('ends VMs as their machines end, and says so in the metrics and the summary', async () => {
    const sim = await boot('3ms');
    sim.run();
    const r = await sim.finish();
    const m = (name: string) => sim.metrics.value(name);
    expect(m('linux.powered-off')).toBe(1);
    // Status 3, the reset and the hang; the spinning machine is still running.
    expect(m('linux.failed')).toBe(3);
    expect(m('linux.running')).toBe(1);
    expect(m('linux.console-missing')).toBe(0);
    expect(r.files.get('console/echo-0.txt')).toBe('hello, machine\n');
    expect(r.summary).toMatch(/linux VM echo-0: FAILED: powered off with status 3 at /);
    expect(r.summary).toMatch(/linux VM reset-0: FAILED: the guest reset the machine/);
    expect(r.summary).toMatch(/linux VM hang-0: FAILED: hung at .*nothing can raise/);
    expect(r.summary).toMatch(/linux VM spin-0: still running at the end of the run/);
    // 3 ms of a 1.2 GHz core: the spinning machine retired 3.6 M instructions; the others a few each.
    expect(m('linux.instructions')).toBeGreaterThanOrEqual(3_600_000);
    expect(m('linux.instructions')).toBeLessThan(3_600_000 + 1000);
  });

  it('refuses a snapshot while a machine runs, naming the VM', async () => {
    const sim = await boot('3ms');
    sim.step();
    expect(() => sim.snapshot()).toThrow(/Linux VM spin-0 is running, and a Linux VM's machine \(RAM, hart, devices\) is not saved in snapshots/);
  });
});
