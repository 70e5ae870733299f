// hooks.cpu.syscall and hooks.cpu.trap from real guests, under every execution engine:
// a plugin observes every system call, answers one (the guest sees its answer),
// charges simulated time for one (the guest's clock moves on by exactly that, and the
// guest pays for it with instructions), and takes illegal-instruction traps
// (emulating the instruction, or retrying it until the guest is ended).
import path from 'node:path';
import { ExecutionEngine, GuestCpu, Simulation } from 'virtlab';
import { expectedOf, guestPrograms, runGuestCase } from '../../tools/node/guests';
import { Assembler, elf } from '../../tools/node/rv-asm';
import { bootText, scenarioFromText } from '../../tools/node/testing';
import { GuestCallLog } from '../fixtures/user-plugins/guest-calls';

const FIXTURES = path.resolve('__tests__/fixtures/user-plugins');
const ENGINES = ['dbt.interpreter', 'dbt.block-translator', 'dbt.instrew'];
const TEXT = 0x10000;
const DATA = 0x20000;
const [A0, A1, A2, A7, T0, S0] = [10, 11, 12, 17, 5, 8];
const GETPIDS = 10;

/**
 * clock_gettime into DATA, getpid ten times in a loop, the last pid at DATA+32, `spin`
 * turns of an empty loop, clock_gettime into DATA+16, write(1, DATA, 40), exit_group(0).
 */
function callsProgram(spin = 0): Uint8Array {
  const a = new Assembler(TEXT);
  a.lui(S0, DATA >>> 12);
  const clock = (offset: number) => {
    a.addi(A0, 0, 1);
    a.addi(A1, S0, offset);
    a.addi(A7, 0, 113);
    a.ecall();
  };
  clock(0);
  a.addi(T0, 0, GETPIDS);
  a.label('loop');
  a.addi(A7, 0, 172);
  a.ecall();
  a.addi(T0, T0, -1);
  a.branch(1, T0, 0, 'loop');
  a.store(3, A0, S0, 32);
  if (spin) {
    a.lui(T0, spin >>> 12); // a multiple of 4096
    a.label('spin');
    a.addi(T0, T0, -1);
    a.branch(1, T0, 0, 'spin');
  }
  clock(16);
  a.addi(A0, 0, 1);
  a.addi(A1, S0, 0);
  a.addi(A2, 0, 40);
  a.addi(A7, 0, 64);
  a.ecall();
  a.addi(A0, 0, 0);
  a.addi(A7, 0, 94);
  a.ecall();
  return elf(TEXT, [
    { vaddr: TEXT, bytes: a.finish(), flags: 5 },
    { vaddr: DATA, bytes: new Uint8Array(64), flags: 6, memsz: 4096 },
  ]);
}

/** a0 = 7, an illegal (all-zero) compressed instruction, then exit_group(a0). */
function illegalProgram(): Uint8Array {
  const a = new Assembler(TEXT);
  a.addi(A0, 0, 7);
  a.hw(0);
  a.addi(A7, 0, 94);
  a.ecall();
  return elf(TEXT, [{ vaddr: TEXT, bytes: a.finish(), flags: 5 }]);
}

async function simulate(engine: string, program: Uint8Array, options: object = {}, tick = '1ms') {
  const { scenario, catalog } = scenarioFromText(
    `name: guest-hooks
preset: minimal
tick: ${tick}
duration: 4ms
hosts: [{ profile: riscv-board }]
vms:
  - name: g
    memory: 64MiB
    workload: { kind: guest, program: prog.elf }
plugins:
  datacenter.racks: {}
  placement.first-fit: {}
  workload.guest: { memory: 16MiB }
  ${engine}: {}
  user.guest-calls: ${JSON.stringify(options)}
`,
    {},
    undefined,
    [FIXTURES],
  );
  const sim = await Simulation.create({ scenario, catalog, files: new Map([['prog.elf', program]]) });
  sim.run();
  const result = await sim.finish();
  const cpu = sim.world.query([GuestCpu])[0];
  const G = sim.world.store(GuestCpu);
  const log = sim.services.get(GuestCallLog);
  return { sim, result, cpu, exitCode: G.exitCode[cpu], exitedAt: G.exitedAt[cpu], out: Buffer.concat(log.written), log };
}

/** The guest's two clock readings (ns) and the pid it saw, from its 40 bytes of output. */
function readings(out: Buffer) {
  expect(out.length).toBe(40);
  const ns = (at: number) => Number(out.readBigInt64LE(at)) * 1e9 + Number(out.readBigInt64LE(at + 8));
  return { first: ns(0), second: ns(16), pid: Number(out.readBigInt64LE(32)) };
}

describe.each(ENGINES)('guest system calls and traps under %s', (engine) => {
  it('shows a plugin every system call, with its name, arguments and vCPU', async () => {
    const r = await simulate(engine, callsProgram());
    expect(r.exitCode).toBe(0);
    expect(r.log.calls.map((c) => c.name)).toEqual(['clock_gettime', ...Array(GETPIDS).fill('getpid'), 'clock_gettime', 'write', 'exit_group']);
    expect(r.log.calls.every((c) => c.vcpu === r.cpu)).toBe(true);
    const write = r.log.calls.find((c) => c.name === 'write')!;
    expect(write.number).toBe(64);
    expect(write.args.slice(0, 3)).toEqual([1, DATA, 40]);
    expect(readings(r.out).pid).toBe(1000);
  });

  it("lets a plugin answer a call: the guest sees the plugin's value", async () => {
    const r = await simulate(engine, callsProgram(), { answer: { getpid: 4242 } });
    expect(readings(r.out).pid).toBe(4242);
    // The observer at STAGE_FIRST still sees the answered calls.
    expect(r.log.calls.filter((c) => c.name === 'getpid')).toHaveLength(GETPIDS);
  });

  it("moves the guest's clock on by exactly the time a plugin charges", async () => {
    const plain = readings((await simulate(engine, callsProgram())).out);
    const charged = readings((await simulate(engine, callsProgram(), { charge: { getpid: 2000 } })).out);
    expect(charged.first).toBe(plain.first);
    expect(charged.second - charged.first - (plain.second - plain.first)).toBe(GETPIDS * 2000);
  });

  it('makes the guest pay for charged time with instructions, across ticks', async () => {
    // 10 µs ticks (12000 instructions of a 1.2 GHz board) and 3 µs per getpid: the
    // guest owes three ticks, which it pays in the ticks after the charges, so the
    // rest of its work (40960 instructions of spinning) ends three ticks later.
    const plain = await simulate(engine, callsProgram(5 << 12), {}, '10us');
    const charged = await simulate(engine, callsProgram(5 << 12), { charge: { getpid: 3000 } }, '10us');
    const time = (r: typeof plain) => r.log.calls.map((c) => c.timeNs);
    // Each call happens later by the time charged before it; the guest's clock never runs backwards.
    time(charged).forEach((t, i) => {
      const before = charged.log.calls.slice(0, i).filter((c) => c.name === 'getpid').length;
      expect(t - time(plain)[i]).toBeCloseTo(before * 3000, 3);
      if (i > 0) expect(t).toBeGreaterThanOrEqual(time(charged)[i - 1]);
    });
    expect(plain.exitedAt).toBe(30_000);
    expect(charged.exitedAt).toBe(60_000);
  });

  it('lets a plugin emulate an illegal instruction and resume after it', async () => {
    const r = await simulate(engine, illegalProgram(), { emulateIllegal: 99 });
    expect(r.exitCode).toBe(99);
    expect(r.log.traps).toEqual([{ vcpu: r.cpu, cause: 'illegal instruction', signal: 4, pc: TEXT + 4, instruction: 0, length: 2 }]);
  });

  it('ends the guest with the signal when no handler takes the trap, or when its handler makes no progress', async () => {
    const untaken = await simulate(engine, illegalProgram());
    expect(untaken.exitCode).toBe(128 + 4);
    const stuck = await simulate(engine, illegalProgram(), { retryIllegal: true });
    expect(stuck.exitCode).toBe(128 + 4);
    expect(stuck.log.traps).toHaveLength(16);
  });
});

describe('the system call hook outside a simulation', () => {
  const files = guestPrograms().find((p) => p.name === 'files')!;
  it.each(ENGINES)('sees every call of a C program under %s, and changes nothing', async (engine) => {
    const sim = await bootText(`name: calls\npreset: minimal\nduration: 1ns\ntick: 1ns\nplugins:\n  ${engine}: {}\n  user.guest-calls: {}\n`, {}, [FIXTURES]);
    const run = runGuestCase(sim.services.get(ExecutionEngine), files, files.cases[0]);
    expect(Buffer.from(run.stdout).toString()).toBe(Buffer.from(expectedOf(files, files.cases[0]).stdout).toString());
    const log = sim.services.get(GuestCallLog);
    const counted = new Map<number, number>();
    for (const c of log.calls) counted.set(c.number, (counted.get(c.number) ?? 0) + 1);
    expect(counted).toEqual(new Map(run.instance.syscalls()));
    expect(log.calls.length).toBeGreaterThan(5);
  });
});
