// The persistent translation cache of `virtlab exec` (core/models/dbt/code-cache.ts,
// tools/node/code-cache-store.ts), through whole processes with a cache folder of the
// test's own: a warm run gives exactly what a cold run and the interpreter give, loads
// units and translates fewer; cached code whose guest bytes differ is refused by
// validation; a truncated, corrupt or unwritable cache only costs speed; two processes
// writing at once leave a whole file.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeCodeCache } from '../../core/models/dbt/code-cache';

const BIN = path.resolve('tools/cli/bin.js');
const G = 'scenarios/guests/bin';

interface Run {
  status: number;
  out: string;
  err: string;
  instructions: number;
  counters: Record<string, number>;
  cacheLine: string;
}

function parse(status: number | null, out: string, err: string): Run {
  const instructions = Number(/ (\d+) instructions in /.exec(err)?.[1] ?? NaN);
  const counters: Record<string, number> = {};
  for (const m of err.matchAll(/\b([a-zA-Z]+)=(-?[\d.]+)/g)) counters[m[1]] = Number(m[2]);
  return { status: status ?? -1, out, err, instructions, counters, cacheLine: /code cache.*/.exec(err)?.[0] ?? '' };
}

function exec(args: string[], cache: string | null, extra: string[] = []): Run {
  const env = { ...process.env, VIRTLAB_CODE_CACHE: cache ?? 'off' };
  const r = spawnSync(process.execPath, [BIN, 'exec', '--stats', '--clear-env', '--max-instructions', '50000000', ...extra, ...args], { env, encoding: 'utf8', maxBuffer: 1 << 26 });
  return parse(r.status, r.stdout, r.stderr);
}

function execAsync(args: string[], cache: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'exec', '--stats', '--clear-env', ...args], { env: { ...process.env, VIRTLAB_CODE_CACHE: cache }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve(parse(code, out, err)));
  });
}

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'virtlab-code-cache-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function cacheFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).map((n) => path.join(dir, n)) : [];
}

/** The ELF file offset of a guest address (static executables: the PT_LOAD that holds it). */
function fileOffset(elf: Uint8Array, addr: number): number {
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const phoff = Number(dv.getBigUint64(0x20, true));
  const phentsize = dv.getUint16(0x36, true);
  for (let i = 0; i < dv.getUint16(0x38, true); i++) {
    const o = phoff + i * phentsize;
    if (dv.getUint32(o, true) !== 1) continue;
    const off = Number(dv.getBigUint64(o + 8, true));
    const vaddr = Number(dv.getBigUint64(o + 16, true));
    const filesz = Number(dv.getBigUint64(o + 32, true));
    if (addr >= vaddr && addr < vaddr + filesz) return off + (addr - vaddr);
  }
  throw new Error(`0x${addr.toString(16)} is in no loaded segment`);
}

describe('the persistent translation cache', () => {
  it('is off in every test process and its children unless a test names a folder', () => {
    expect(process.env.VIRTLAB_CODE_CACHE).toBe('off');
    const home = tempDir();
    const r = spawnSync(process.execPath, [BIN, 'exec', '--engine', 'instrew', '--stats', `${G}/crc32.elf`, '1'], { env: { ...process.env, HOME: home, XDG_CACHE_HOME: home }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/code cache/);
    expect(cacheFiles(home)).toEqual([]);
  });

  const cases: Array<[string, string[]]> = [
    ['crc32', [`${G}/crc32.elf`, '2']],
    ['sort', [`${G}/sort.elf`, '3000']],
    ['smc (self-modifying code)', [`${G}/smc.elf`]],
  ];
  for (const engine of ['instrew', 'block-translator']) {
    for (const [name, args] of cases) {
      it(`${engine}, ${name}: a warm run equals the cold run and the interpreter, loads units and translates fewer`, () => {
        const dir = tempDir();
        const oracle = exec(args, null, ['--engine', 'interpreter']);
        const cold = exec(args, dir, ['--engine', engine]);
        expect(cacheFiles(dir)).toHaveLength(1);
        const warm = exec(args, dir, ['--engine', engine]);
        for (const r of [cold, warm]) {
          expect(r.out).toBe(oracle.out);
          expect(r.status).toBe(oracle.status);
          expect(r.instructions).toBe(oracle.instructions);
        }
        expect(cold.counters.cacheUnits).toBe(0);
        expect(warm.counters.cacheUnits).toBeGreaterThan(0);
        // smc rewrites code it ran: the unit translated from the new bytes meets the old
        // ones at its entry in the next run, and validation refuses it.
        if (name.startsWith('smc')) expect(warm.counters.cacheRejectedUnits).toBeGreaterThan(0);
        else expect(warm.counters.cacheRejectedUnits).toBe(0);
        expect(warm.counters.guestInstructionsTranslated).toBeLessThan(cold.counters.guestInstructionsTranslated);
        // Runs accumulate: a third run of a larger input still agrees.
        const third = exec(args, dir, ['--engine', engine]);
        expect(third.out).toBe(oracle.out);
        expect(third.instructions).toBe(oracle.instructions);
      });
    }
  }

  /** The tag and layout a cache file was written with (to decode it here). */
  function readCache(file: string): ReturnType<typeof decodeCodeCache> {
    const bytes = readFileSync(file);
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    const tagLen = dv.getUint32(16, true);
    const tag = bytes.subarray(20, 20 + tagLen).toString();
    const layoutLen = dv.getUint32(20 + tagLen, true);
    const layout = bytes.subarray(24 + tagLen, 24 + tagLen + layoutLen).toString();
    return decodeCodeCache(bytes, tag, layout);
  }

  /** Functions a WebAssembly module defines (its function section's count). */
  function definedFunctions(b: Uint8Array): number {
    const uleb = (at: number): [number, number] => {
      let v = 0;
      let scale = 1;
      for (let n = 1; ; n++, at++) {
        v += (b[at] & 0x7f) * scale;
        if (b[at] < 0x80) return [v, n];
        scale *= 128;
      }
    };
    for (let at = 8; at < b.length; ) {
      const id = b[at];
      const [size, n] = uleb(at + 1);
      if (id === 3) return uleb(at + 1 + n)[0];
      at += 1 + n + size;
    }
    return 0;
  }

  // The saved module is assembled from the code compiled in the cold run, and a unit
  // that was never entered is left out: a direct call to it becomes a call of a stub
  // that enters its chain slot. A warm run on another input takes the paths the cold
  // run did not, through those stubs.
  // Mutation that must break this test: the stub in linkModule (emit.ts) storing
  // another pc (pc + 2) before it enters the chain slot. (Checked once; a wrong slot
  // only costs speed: the dispatcher then goes by the stored pc.)
  for (const engine of ['block-translator', 'instrew']) {
    it(`${engine}: a warm run on other inputs, through the units the cold run left out, equals the interpreter`, () => {
      const pairs: Array<[string[], string[]]> = [
        [[`${G}/crc32.elf`, '2'], [`${G}/crc32.elf`, '1']],
        [[`${G}/exit-status.elf`], [`${G}/exit-status.elf`, '7']],
        [[`${G}/args-env.elf`], [`${G}/args-env.elf`, 'a', 'b c']],
      ];
      let stubs = 0;
      for (const [first, then] of pairs) {
        const dir = tempDir();
        exec(first, dir, ['--engine', engine]);
        const contents = readCache(cacheFiles(dir)[0]);
        if (typeof contents === 'string') throw new Error(contents);
        for (const m of contents.modules) stubs += definedFunctions(m.bytes) - m.units.length;
        const oracle = exec(then, null, ['--engine', 'interpreter']);
        const warm = exec(then, dir, ['--engine', engine]);
        expect(warm.counters.cacheUnits).toBeGreaterThan(0);
        expect(warm.out).toBe(oracle.out);
        expect(warm.status).toBe(oracle.status);
        expect(warm.instructions).toBe(oracle.instructions);
      }
      // The block translator's units tail-call the successors translated with them, directly.
      if (engine === 'block-translator') expect(stubs).toBeGreaterThan(0);
    });
  }

  // In the saved module the units' calls of the `enter` helper are rewritten in place
  // (linkModule, emit.ts) into calls through the chain table itself, which the module
  // imports: nop, nop, then (return_)call_indirect of the unit type (0) through table 1.
  // The warm run chains units through them and must still equal the interpreter.
  // Mutation that must break this test: linkModule writing table index 0 (the helper
  // table) instead of 1 into the rewritten calls (the warm run then calls the helpers
  // by slot number). (Checked once; with the rewrite left out, no site is counted.)
  it('instrew: the saved module calls through the chain table, and a warm run chaining through it equals the interpreter', () => {
    const dir = tempDir();
    // A program of many functions: its units call and chain to each other.
    const args = [`${G}/blake2-sum.elf`, '2000'];
    exec(args, dir, ['--engine', 'instrew']);
    const contents = readCache(cacheFiles(dir)[0]);
    if (typeof contents === 'string') throw new Error(contents);
    let sites = 0;
    for (const m of contents.modules) {
      expect(WebAssembly.Module.imports(new WebAssembly.Module(m.bytes))).toContainEqual({ module: 'env', name: 'table', kind: 'table' });
      const b = m.bytes;
      for (let at = 0; at + 4 < b.length; at++) if (b[at] === 0x01 && b[at + 1] === 0x01 && (b[at + 2] === 0x11 || b[at + 2] === 0x13) && b[at + 3] === 0 && b[at + 4] === 1) sites++;
    }
    expect(sites).toBeGreaterThan(0);
    const oracle = exec(args, null, ['--engine', 'interpreter']);
    const warm = exec(args, dir, ['--engine', 'instrew']);
    expect(warm.counters.cacheUnits).toBeGreaterThan(0);
    expect(warm.counters.chainHits).toBeGreaterThan(0);
    expect(warm.counters.hostCalls).toBeGreaterThan(0);
    expect(warm.out).toBe(oracle.out);
    expect(warm.status).toBe(oracle.status);
    expect(warm.instructions).toBe(oracle.instructions);
  });

  // Mutation that must break this test: mismatchedBytes() in code-cache.ts returning 0
  // (validation skipped): the unit translated from the original bytes then runs in
  // place of the patched instruction, and output or instruction count differ from
  // the interpreter's. (Checked once.)
  it('refuses cached code whose guest bytes differ (a cache presented for another program), and the output stays right', () => {
    const dir = tempDir();
    const args = ['2'];
    const elfPath = `${G}/crc32.elf`;
    exec([elfPath, ...args], dir, ['--engine', 'instrew', '--option', 'hotThreshold=0']);
    const [file] = cacheFiles(dir);
    const contents = readCache(file);
    if (typeof contents === 'string') throw new Error(contents);
    // The entry of the unit run most: the largest unit of the program's hot loop is
    // entered, and its first instruction runs, whenever the loop does.
    const units = contents.modules.flatMap((m) => m.units);
    const unit = units.reduce((a, b) => (b.guestInstructions > a.guestInstructions ? b : a));
    const elf = new Uint8Array(readFileSync(elfPath));
    const off = fileOffset(elf, unit.entry);
    // An addi's immediate: a different computation with the same instruction kinds.
    elf[off + 3] ^= 0x10;
    const patched = path.join(tempDir(), 'crc32-patched.elf');
    writeFileSync(patched, elf);
    const oracle = exec([patched, ...args], null, ['--engine', 'interpreter']);
    // The patched program's own cache file name, then the original's cache under it.
    const other = tempDir();
    exec([patched, ...args], other, ['--engine', 'instrew', '--option', 'hotThreshold=0']);
    const [otherFile] = cacheFiles(other);
    copyFileSync(file, otherFile);
    const r = exec([patched, ...args], other, ['--engine', 'instrew', '--option', 'hotThreshold=0']);
    expect(r.out).toBe(oracle.out);
    expect(r.status).toBe(oracle.status);
    expect(r.instructions).toBe(oracle.instructions);
    expect(r.counters.cacheRejectedUnits).toBeGreaterThan(0);
    expect(r.counters.cacheRejectedBytes).toBeGreaterThan(0);
    expect(r.counters.cacheUnits).toBeGreaterThan(0);
  });

  it('ignores a truncated, corrupt or foreign file and an unwritable folder, says why, and runs right', () => {
    const args = [`${G}/crc32.elf`, '2'];
    const oracle = exec(args, null, ['--engine', 'interpreter']);
    const dir = tempDir();
    exec(args, dir, ['--engine', 'block-translator']);
    const [file] = cacheFiles(dir);
    const good = readFileSync(file);
    const check = (r: Run, why: RegExp) => {
      expect(r.out).toBe(oracle.out);
      expect(r.instructions).toBe(oracle.instructions);
      expect(r.counters.cacheUnits).toBe(0);
      expect(r.cacheLine).toMatch(why);
    };
    truncateSync(file, Math.floor(good.length / 2));
    check(exec(args, dir, ['--engine', 'block-translator']), /truncated/);
    const corrupt = Buffer.from(good);
    corrupt[Math.floor(corrupt.length * 0.7)] ^= 0x40;
    writeFileSync(file, corrupt);
    check(exec(args, dir, ['--engine', 'block-translator']), /corrupt/);
    writeFileSync(file, Buffer.from('not a cache at all'));
    check(exec(args, dir, ['--engine', 'block-translator']), /not a code cache/);
    const foreign = Buffer.from(good);
    foreign.writeUInt32LE(99, 4);
    writeFileSync(file, foreign);
    check(exec(args, dir, ['--engine', 'block-translator']), /format 99/);
    // Each bad file was replaced by a good one at the end of its run.
    writeFileSync(file, corrupt);
    exec(args, dir, ['--engine', 'block-translator']);
    expect(exec(args, dir, ['--engine', 'block-translator']).counters.cacheUnits).toBeGreaterThan(0);
    // A folder that cannot be made (under a regular file).
    const blocker = path.join(tempDir(), 'file');
    writeFileSync(blocker, 'x');
    check(exec(args, path.join(blocker, 'cache'), ['--engine', 'block-translator']), /cannot write/);
    // --no-code-cache: neither read nor written.
    const off = tempDir();
    const r = exec(args, off, ['--engine', 'block-translator', '--no-code-cache']);
    expect(r.out).toBe(oracle.out);
    expect(r.cacheLine).toBe('');
    expect(cacheFiles(off)).toEqual([]);
  });

  it('leaves a whole file when two processes write it at once', async () => {
    const dir = tempDir();
    const args = ['--engine', 'instrew', `${G}/sort.elf`, '3000'];
    const oracle = exec([`${G}/sort.elf`, '3000'], null, ['--engine', 'interpreter']);
    const runs = await Promise.all([execAsync(args, dir), execAsync(args, dir), execAsync(args, dir)]);
    for (const r of runs) expect(r.out).toBe(oracle.out);
    expect(cacheFiles(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const after = exec(args.slice(2), dir, args.slice(0, 2));
    expect(after.cacheLine).not.toMatch(/truncated|corrupt/);
    expect(after.counters.cacheUnits).toBeGreaterThan(0);
    expect(after.out).toBe(oracle.out);
  });
});
