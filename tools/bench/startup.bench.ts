// Startup benchmark (`npm run bench:startup`): wall time of whole `virtlab` processes
// from spawn to exit, for `virtlab --help`, `virtlab exec` of a guest program that
// only exits, and `virtlab run` of the demo scenario, against the targets of 150 ms,
// 200 ms and 1 s, each started as installed (tools/cli/virtlab, the launcher); the
// exit-only exec also as `node tools/cli/bin.js`, without the launcher's allocator
// settings; and qemu-riscv64 running the same exit-only program when it is
// installed. Runs alternate between the commands (and qemu), so that a burst of load
// on a shared machine falls on all of them; the minimum over the runs is the figure
// (the cost of the command itself), the median is printed beside it, and the mean CPU
// time of the processes (Linux), which depends little on the load. The build is
// brought up to date by one untimed run first. `--runs n` sets the runs (default 7).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../node/repo-root';
import { childCpuMs } from './child-cpu';
import { watchSources } from './sources-guard';

// The command as installed (package.json "bin"): the launcher, which starts Node on
// bin.js with its allocator settings; and bin.js started directly, to show what they save.
const LAUNCHER = path.join(REPO_ROOT, 'tools', 'cli', 'virtlab');
const BIN = path.join(REPO_ROOT, 'tools', 'cli', 'bin.js');
const EXIT_ONLY = path.join(REPO_ROOT, 'scenarios', 'guests', 'bin', 'exit-status.elf');
const DEMO = path.join(REPO_ROOT, 'scenarios', 'demo.scenario.yaml');

interface Case {
  readonly label: string;
  readonly cmd: string;
  readonly args: string[];
  readonly status: number;
  readonly targetMs?: number;
}

/**
 * Our environment without the TypeScript loader tsx passes on to child processes, nor
 * allocator settings of our own; with this Node first on the PATH, for the launcher.
 */
const ENV = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && !k.startsWith('MALLOC_') && k !== 'VIRTLAB_LAUNCHER_ENV')),
  PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
};

function timeOnce(c: Case, cpu?: number[]): number {
  const c0 = childCpuMs();
  const t0 = performance.now();
  const r = spawnSync(c.cmd, c.args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT, env: ENV });
  const ms = performance.now() - t0;
  if (r.error) throw r.error;
  if (r.status !== c.status) throw new Error(`${c.label}: exit status ${r.status}, expected ${c.status}: ${String(r.stderr).trim().split('\n')[0]}`);
  const c1 = childCpuMs();
  if (cpu && c0 !== undefined && c1 !== undefined) cpu.push(c1 - c0);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function main(): void {
  const sourcesMoved = watchSources();
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 7;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs expects a positive whole number, got '${process.argv[runsArg + 1]}'`);
  const out = mkdtempSync(path.join(os.tmpdir(), 'virtlab-startup-'));
  const node = process.execPath;
  const cases: Case[] = [
    { label: 'virtlab --help', cmd: LAUNCHER, args: ['--help'], status: 0, targetMs: 150 },
    { label: 'virtlab exec exit-only', cmd: LAUNCHER, args: ['exec', EXIT_ONLY, '0'], status: 0, targetMs: 200 },
    { label: 'virtlab run demo', cmd: LAUNCHER, args: ['run', DEMO, '--quiet', '--out', path.join(out, 'demo')], status: 0, targetMs: 1000 },
    { label: 'node bin.js exec exit-only', cmd: node, args: [BIN, 'exec', EXIT_ONLY, '0'], status: 0 },
  ];
  const qemu = spawnSync('qemu-riscv64', ['--version']);
  if (!qemu.error && qemu.status === 0) cases.push({ label: 'qemu-riscv64 exit-only', cmd: 'qemu-riscv64', args: [EXIT_ONLY, '0'], status: 0 });
  try {
    // Untimed: compiles the sources when they changed since the last build.
    timeOnce(cases[0]);
    const times = cases.map(() => [] as number[]);
    const cpu = cases.map(() => [] as number[]);
    for (let r = 0; r < runs; r++) cases.forEach((c, i) => times[i].push(timeOnce(c, cpu[i])));
    const load = os.loadavg()[0];
    console.log(`startup, ${runs} alternating runs each, ${os.cpus().length} cores, load average ${load.toFixed(1)}, node ${process.version}\n`);
    console.log(`${'command'.padEnd(26)} ${'min ms'.padStart(8)} ${'median'.padStart(8)} ${'cpu ms'.padStart(8)} ${'target'.padStart(8)}  verdict (wall min)`);
    cases.forEach((c, i) => {
      const min = Math.min(...times[i]);
      const cpuMs = cpu[i].length === runs ? (cpu[i].reduce((a, b) => a + b, 0) / runs).toFixed(0) : '—';
      const verdict = c.targetMs === undefined ? '' : min <= c.targetMs ? 'met' : `MISSED (${(min / c.targetMs).toFixed(2)}× the target)`;
      console.log(`${c.label.padEnd(26)} ${min.toFixed(0).padStart(8)} ${median(times[i]).toFixed(0).padStart(8)} ${cpuMs.padStart(8)} ${(c.targetMs === undefined ? '—' : `< ${c.targetMs}`).padStart(8)}  ${verdict}`);
    });
    console.log('\ncpu ms: user + system time of the process (mean), which the load of other processes hardly changes;');
    console.log(`wall times on a machine whose load average exceeds its ${os.cpus().length} cores include waiting for a core.`);
    if (!cases.some((c) => c.cmd === 'qemu-riscv64')) console.log('\nqemu-riscv64 not installed: no comparison');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const moved = sourcesMoved();
  if (moved) console.log(`\n${moved}`);
}

main();
