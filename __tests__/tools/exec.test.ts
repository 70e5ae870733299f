// virtlab exec behaves like qemu-riscv64: standard streams and exit statuses pass
// through, faults end the guest with 128 + signal and a report, limits stop it.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { execCommand, type ExecIo } from '../../tools/cli/exec';

const G = 'scenarios/guests';

async function run(args: string[], stdin = '', host: Record<string, string> = {}) {
  let input: Uint8Array | null = new TextEncoder().encode(stdin);
  const out: string[] = [];
  const err: string[] = [];
  const guestErr: string[] = [];
  const dec = new TextDecoder();
  const io: ExecIo = {
    readStdin: (max) => {
      if (!input || !input.length) return null;
      const c = input.slice(0, max);
      input = input.slice(max);
      return c;
    },
    writeStdout: (b) => out.push(dec.decode(b)),
    writeStderr: (b) => guestErr.push(dec.decode(b)),
    err: (l) => err.push(l),
  };
  const code = await execCommand(args, io, host);
  return { code, out: out.join(''), err: err.join('\n'), guestErr: guestErr.join('') };
}

describe('virtlab exec', () => {
  it('passes arguments, environment and standard input through', async () => {
    const r = await run(['--clear-env', '--env', 'VIRTLAB_TEST=1', '-E', 'VIRTLAB_MODE=check', `${G}/bin/args-env.elf`, 'one', 'two words', '']);
    expect(r.out).toBe(readFileSync(`${G}/expected/args-env.default.stdout`, 'utf8'));
    const e = await run([`${G}/bin/stdin-echo.elf`], readFileSync(`${G}/data/stdin.txt`, 'utf8'));
    expect(e.out).toBe(readFileSync(`${G}/expected/stdin-echo.default.stdout`, 'utf8'));
  });

  it('returns the guest exit status', async () => {
    expect((await run([`${G}/bin/exit-status.elf`, '7'])).code).toBe(7);
  });

  it('ends a faulting guest with 128 + signal and names the pc, instruction and address', async () => {
    const segv = await run([`${G}/bin/segv.elf`]);
    expect(segv.code).toBe(139);
    expect(segv.out).toBe('about to fault\n');
    expect(segv.err).toMatch(/signal 11: store to an unmapped or read-only address at pc 0x[0-9a-f]+ \(0x[0-9a-f]+\), address 0x10/);
    const ill = await run([`${G}/bin/illegal.elf`]);
    expect(ill.code).toBe(132);
    expect(ill.err).toMatch(/signal 4: illegal instruction at pc 0x[0-9a-f]+ \(0x0000\)/);
  });

  it('mounts host files read-only', async () => {
    const r = await run(['--mount', `${G}/data/input.txt:/data/input.txt`, `${G}/bin/files.elf`, '/data/input.txt']);
    expect(r.out).toBe(readFileSync(`${G}/expected/files.default.stdout`, 'utf8'));
  });

  it('stops at the instruction limit with a clear message', async () => {
    const r = await run(['--max-instructions', '100000', `${G}/bin/crc32.elf`, '50']);
    expect(r.code).toBe(124);
    expect(r.err).toMatch(/stopped after 100000 instructions/);
  });

  it('prints statistics with --stats', async () => {
    const r = await run(['--stats', `${G}/bin/exit-status.elf`]);
    expect(r.err).toMatch(/engine dbt.interpreter, \d+ instructions in [\d.]+ s, [\d.]+ MIPS/);
    expect(r.err).toMatch(/syscalls .*exit_group:1/);
    expect(r.err).toMatch(/unimplemented system calls answered ENOSYS: none/);
  });

  it('gives the guest our environment, edited by -E, -U and --clear-env, as qemu-user does', async () => {
    const host = { VIRTLAB_TEST: '1', VIRTLAB_MODE: 'check', VIRTLAB_ABSENT: 'x' };
    const prog = `${G}/bin/args-env.elf`;
    const args = ['one', 'two words', ''];
    const expected = readFileSync(`${G}/expected/args-env.default.stdout`, 'utf8');
    // VIRTLAB_ABSENT is the one variable too many; -U removes it and the recorded output is met.
    expect((await run(['-U', 'VIRTLAB_ABSENT', prog, ...args], '', host)).out).toBe(expected);
    expect((await run([prog, ...args], '', host)).out).toMatch(/VIRTLAB_ABSENT=x/);
    expect((await run(['--clear-env', prog, ...args], '', host)).out).toMatch(/VIRTLAB_MODE=\(unset\)/);
    await expect(run(['-E', 'NOEQUALS', prog], '', host)).rejects.toThrow(/-E\/--env expects K=V, got 'NOEQUALS'/);
  });

  it('keeps the guest stderr clean of unimplemented calls unless -d unimp asks, and names them', async () => {
    const plain = await run([`${G}/bin/sort.elf`, '200']);
    expect(plain.err).toBe('');
    const logged = await run(['-d', 'unimp', `${G}/bin/process-misc.elf`]);
    expect(logged.err).toBe('virtlab: unimplemented system calls answered ENOSYS: syscall 1000 (1000, 1×)');
    expect(logged.guestErr).toBe('');
    const stats = await run(['--stats', `${G}/bin/process-misc.elf`]);
    expect(stats.err).toMatch(/syscalls .*sysinfo:1 .*\n.*answered ENOSYS: syscall 1000 \(1000, 1×\)/);
    await expect(run(['-d', 'cpu', `${G}/bin/exit-status.elf`])).rejects.toThrow(/unknown log item 'cpu'/);
  });

  it('refuses an unknown engine, a missing program and a non-RISC-V file', async () => {
    await expect(run(['--engine', 'nope', `${G}/bin/exit-status.elf`])).rejects.toThrow(/unknown execution engine 'nope'/);
    await expect(run(['missing.elf'])).rejects.toThrow(/no such program/);
    await expect(run(['package.json'])).rejects.toThrow(/not an ELF file/);
  });

  it('picks a translator and its options, and reports its counters with --stats', async () => {
    const r = await run(['--engine', 'instrew', '--option', 'hotThreshold=0', '--option', 'promoteRegisters=false', '--stats', `${G}/bin/crc32.elf`, '2']);
    expect(r.out).toBe(readFileSync(`${G}/expected/crc32.small.stdout`, 'utf8'));
    expect(r.err).toMatch(/engine dbt.instrew/);
    expect(r.err).toMatch(/units=\d+ .*chainHits=\d+ .*hostCalls=\d+ returnHits=\d+/);
    expect(r.err).toMatch(/registerAccessesPromoted=0/);
    // Where the instructions ran adds up to all of them: a mutation that counted helper
    // calls as interpreted twice, or translated code as interpreted, breaks the sum.
    const total = Number(/engine dbt.instrew, (\d+) instructions/.exec(r.err)![1]);
    const cov = /coverage: (\d+) instructions interpreted \([\d.]+%\), (\d+) run as translated code \([\d.]+%\); \d+ instructions translated in \d+ units [^;]*; translation \d+ ms of \d+ ms/.exec(r.err);
    expect(cov).not.toBeNull();
    expect(Number(cov![1]) + Number(cov![2])).toBe(total);
    expect(Number(cov![2])).toBeGreaterThan(Number(cov![1]));
    expect((await run(['--stats', `${G}/bin/crc32.elf`, '2'])).err).not.toMatch(/coverage:/);
    await expect(run(['--engine', 'instrew', '--option', 'nope=1', `${G}/bin/crc32.elf`])).rejects.toThrow(/nope/);
    await expect(run(['--engine', 'instrew', '--option', 'hotThreshold', `${G}/bin/crc32.elf`])).rejects.toThrow(/name=value/);
  });

  it('optimizes translated modules with binaryen when asked, with the same output', () => {
    // binaryen is an ES module: the command line (tsx) loads it, jest's CommonJS cannot.
    const r = spawnSync(process.execPath, ['tools/cli/bin.js', 'exec', '--engine', 'instrew', '--option', 'binaryen=true', '--option', 'hotThreshold=0', `${G}/bin/crc32.elf`, '2'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(readFileSync(`${G}/expected/crc32.small.stdout`, 'utf8'));
    expect(r.status).toBe(0);
  });

  it('works end to end from the command line, with real pipes (as qemu-riscv64 does)', () => {
    const r = spawnSync(process.execPath, ['tools/cli/bin.js', 'exec', `${G}/bin/stdin-echo.elf`], { input: 'abc\n', encoding: 'utf8' });
    expect(r.stdout).toBe('1 lines, 4 bytes, checksum 0036de70\nABC\n');
    expect(r.status).toBe(0);
  });
});
