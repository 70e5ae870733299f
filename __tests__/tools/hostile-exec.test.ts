// `virtlab exec` with standard output on a pipe, under every execution engine: a guest
// that writes faster than its reader reads must wait for it (output complete, exit 0,
// never EAGAIN), and a reader that closes the pipe gives the guest SIGPIPE as Linux
// and qemu do (exit status 141), or EPIPE from write() when the guest ignores the
// signal. The CLI runs as a child process of node whose stdout is a pipe this test
// reads slowly; no assertion depends on timing.
//
// Mutations that must break it: writeAll in tools/cli/exec.ts throwing on EAGAIN (the
// slow reader gets a cut output and exit 3); writeFd in core/models/riscv/syscalls.ts
// ignoring a false return of writeStdout (the closed reader gives exit 0, not 141).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Assembler, elf } from '../../tools/node/rv-asm';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'virtlab-hostile-exec-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CHUNK = 65536;
const CHUNKS = 32;

/**
 * A guest that writes CHUNKS × 64 KiB of 'x' to stdout with write(2) and exits 0; on a
 * failed write it exits with the negated error (EPIPE: 32). With `ignoreSigpipe` it
 * first sets SIGPIPE to SIG_IGN with rt_sigaction.
 */
function printer(ignoreSigpipe: boolean): string {
  const TEXT = 0x10000;
  const DATA = 0x20000;
  const ACT = 0x40000;
  const a = new Assembler(TEXT);
  if (ignoreSigpipe) {
    a.addi(10, 0, 13); // SIGPIPE
    a.lui(11, ACT >> 12);
    a.addi(12, 0, 0);
    a.addi(13, 0, 8);
    a.addi(17, 0, 134); // rt_sigaction
    a.ecall();
  }
  a.addi(9, 0, CHUNKS);
  a.label('loop');
  a.addi(10, 0, 1);
  a.lui(11, DATA >> 12);
  a.lui(12, CHUNK >> 12);
  a.addi(17, 0, 64); // write
  a.ecall();
  a.branch(4, 10, 0, 'fail'); // blt a0, zero
  a.addi(9, 9, -1);
  a.branch(1, 9, 0, 'loop'); // bne s1, zero
  a.addi(10, 0, 0);
  a.addi(17, 0, 93); // exit
  a.ecall();
  a.label('fail');
  a.op(0x20, 0, 10, 0, 10); // a0 = -a0
  a.addi(17, 0, 93);
  a.ecall();
  const act = new Uint8Array(32);
  act[0] = 1; // SIG_IGN
  const file = path.join(tmp, ignoreSigpipe ? 'printer-ign.elf' : 'printer.elf');
  writeFileSync(file, elf(TEXT, [{ vaddr: TEXT, bytes: a.finish(), flags: 5 }, { vaddr: DATA, bytes: new Uint8Array(CHUNK).fill(0x78), flags: 6 }, { vaddr: ACT, bytes: act, flags: 6 }]));
  return file;
}

/**
 * Runs `virtlab exec` with stdout on a pipe. `slow`: the reader pauses after its first
 * chunk until the guest has had time to fill the pipe (the guest then must wait).
 * `close`: the reader closes the pipe after its first chunk.
 */
function execThroughPipe(engine: string, program: string, reader: 'slow' | 'close'): Promise<{ code: number | null; bytes: number; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.resolve('tools/cli/bin.js'), 'exec', '--engine', engine, program], { stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.once('data', (d: Buffer) => {
      bytes += d.length;
      if (reader === 'close') {
        child.stdout.destroy();
        return;
      }
      child.stdout.pause();
      // Not a timing assertion: any pause lets the pipe fill; the outcome must not depend on it.
      setTimeout(() => {
        child.stdout.on('data', (more: Buffer) => (bytes += more.length));
        child.stdout.resume();
      }, 300);
    });
    child.on('close', (code) => resolve({ code, bytes, err }));
  });
}

describe.each(['interpreter', 'block-translator', 'instrew'])('exec under %s with stdout on a pipe', (engine) => {
  it('waits for a slow reader: the output is complete and the status 0', async () => {
    const r = await execThroughPipe(engine, printer(false), 'slow');
    expect(r.err).toBe('');
    expect(r.bytes).toBe(CHUNK * CHUNKS);
    expect(r.code).toBe(0);
  });

  it('a closed reader gives the guest SIGPIPE: exit status 141, and no message', async () => {
    const r = await execThroughPipe(engine, printer(false), 'close');
    expect(r.code).toBe(141);
    expect(r.err).toBe('');
  });

  it('a guest that ignores SIGPIPE gets EPIPE from write()', async () => {
    const r = await execThroughPipe(engine, printer(true), 'close');
    expect(r.code).toBe(32);
  });
});
