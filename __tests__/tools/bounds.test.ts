// Hostile input that once hung, grew without bound or crashed: each case feeds the
// input and checks the exit status and the one-line refusal, or that the behaviour
// stays bounded. Refusals come before any allocation, so no case here needs gigabytes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execCommand, type ExecIo } from '../../tools/cli/exec';
import { scenarioFile, writeScenario } from '../../tools/node/testing';
import { cli } from './run-cli';

const G = 'scenarios/guests';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'virtlab-bounds-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function exec(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const dec = new TextDecoder();
  const io: ExecIo = {
    readStdin: () => null,
    writeStdout: (b) => out.push(dec.decode(b)),
    writeStderr: (b) => err.push(dec.decode(b)),
    err: (l) => err.push(l),
  };
  const code = await execCommand(args, io);
  return { code, out: out.join(''), err: err.join('\n') };
}

describe('guest memory at the documented maximum (2 GiB)', () => {
  // The CPU state sits above guest memory, at byte 2^31 and beyond: reading it with a
  // signed shift ((base + off) >> 2) gave a negative index, pc NaN and SIGSEGV. Breaks
  // with `>> 2` in place of `>>> 2` in core/models/dbt/runtime.ts. The 2 GiB memory is
  // reserved, not touched: only the pages the program uses become resident.
  it.each(['block-translator', 'instrew', 'interpreter'])('runs a guest under %s at --memory 2GiB', async (engine) => {
    const r = await exec(['--engine', engine, '--memory', '2GiB', `${G}/bin/crc32.elf`, '2']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(readFileSync(`${G}/expected/crc32.small.stdout`, 'utf8'));
  });

  it('reports a guest killed by a fault in run: numeric metrics, the summary says killed', async () => {
    const doc = scenarioFile(`scenarios/guest-vms.scenario.yaml`)
      .swapPlugin('dbt.interpreter', 'dbt.block-translator')
      .set('plugins.workload.guest', { memory: '2GiB' })
      .edit((d) => {
        d.vms = [
          { name: 'crc', memory: '2GiB', workload: { kind: 'guest', program: path.resolve(`${G}/bin/crc32.elf`), args: ['2'] } },
          { name: 'bad', memory: '2GiB', workload: { kind: 'guest', program: path.resolve(`${G}/bin/illegal.elf`) } },
        ];
        d.expect = {};
        d.duration = '20ms';
      });
    const out = path.join(tmp, 'guest-2g');
    const r = await cli('run', writeScenario(tmp, 'guest-2g', doc), '--quiet', '--out', out);
    const metrics = JSON.parse(readFileSync(path.join(out, 'metrics.json'), 'utf8'));
    const final = (name: string) => metrics.metrics[name]?.value;
    expect(typeof final('guest.instructions')).toBe('number');
    expect(final('guest.killed')).toBe(1);
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(out, 'summary.md'), 'utf8')).toMatch(/guest bad-0: killed with status 132, \d+ instructions/);
    expect(readFileSync(path.join(out, 'summary.md'), 'utf8')).toMatch(/guest crc-0: exited with status 0/);
  });
});
