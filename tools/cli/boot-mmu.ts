// Timing-mode boots: the virt machine with its memory behaviour going through an MMU
// strategy, resolved through the plugin system as a scenario resolves it (the strategy's
// plugin with a host profile), and the strategy's figures for the whole boot and for a
// window of the console (by default the one around forkmap in our init). Used by
// `virtlab boot --mmu`, by `npm run repro:ssp-linux` and by the SSP-under-Linux test.
//
// Overhead against native: cycles = instructions × CPI + translation cycles, with the
// machine's own CPI of 1 (its clock counts one instruction per cycle), and native's
// translation cycles from a run under mmu.native: the guest does the same work under
// every strategy (the same instructions), so only the translation cycles differ.

import { MmuStrategy, type MmuStats } from 'virtlab';
import { attachMmu, type BridgeCounters, type BridgeMark, type MmuBridge } from '../../core/models/riscv/system/mmu-bridge';
import { VirtMachine, type MachineOptions, type RunResult } from '../../core/models/riscv/system/machine';
import { consoleLines } from '../../core/models/riscv/system/console-lines';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { bootText } from '../node/testing';
import { REPO_ROOT } from '../node/repo-root';

/** The committed firmware, kernel and initramfs (scenarios/linux) with the recorded QEMU boot's command line. */
export function linuxArtefacts(): Omit<MachineOptions, 'console'> {
  const dir = path.join(REPO_ROOT, 'scenarios', 'linux');
  return {
    kernel: readFileSync(path.join(dir, 'Image')),
    bios: readFileSync(path.join(dir, 'fw_jump.bin')),
    initrd: readFileSync(path.join(dir, 'initramfs.cpio')),
    bootargs: 'console=ttyS0 earlycon initramfs_async=0',
  };
}

/** Cycles per instruction outside translation: the machine's clock counts one instruction per cycle. */
export const BASE_CPI = 1;

/** The console lines that open and close the forkmap window of our init (prefixes). */
export const FORKMAP_WINDOW: readonly [string, string] = ['init: threads-join exited', 'init: forkmap exited'];

/** The MMU strategy of plugin `mmu.<id>`, built by the plugin system for a simulation with one host of `profile`. */
export async function mmuStrategy(id: string, profile = 'riscv-board', options: Record<string, unknown> = {}): Promise<MmuStrategy> {
  const plugin = id.startsWith('mmu.') ? id : `mmu.${id}`;
  // A scenario of one host and the strategy's plugin (JSON is YAML's flow style).
  const sim = await bootText(
    ['name: boot-mmu', 'tick: 1ms', 'duration: 1ms', 'preset: minimal', `hosts: [{ profile: ${JSON.stringify(profile)} }]`, 'plugins:', '  datacenter.racks: {}', `  ${plugin}: ${JSON.stringify(options)}`, ''].join('\n'),
  );
  return sim.services.get(MmuStrategy);
}

/** What a strategy counted over a stretch of the run. */
export interface MmuFigures {
  instructions: number;
  accesses: number;
  tlbMisses: number;
  walks: number;
  walkRefs: number;
  exits: Record<string, number>;
  totalExits: number;
  mmodeEntries: number;
  syncs: number;
  hiddenFaults: number;
  guestFaults: number;
  translationCycles: number;
  /** instructions × BASE_CPI + translation cycles. */
  cycles: number;
  bridge: BridgeCounters;
}

type Saved = ReturnType<MmuStats['save']> & Record<string, number>;

/** The figures between two marks (from = null: since the start). */
export function figures(from: BridgeMark | null, to: BridgeMark): MmuFigures {
  const a = (from?.stats ?? {}) as Saved;
  const b = to.stats as Saved;
  const d = (k: string) => (b[k] ?? 0) - ((a as Record<string, number>)[k] ?? 0);
  const exitsA = new Map((from?.stats.exits as Array<[string, number]> | undefined) ?? []);
  const exits: Record<string, number> = {};
  for (const [cause, n] of (b as unknown as { exits: Array<[string, number]> }).exits) if (n - (exitsA.get(cause) ?? 0) > 0) exits[cause] = n - (exitsA.get(cause) ?? 0);
  const instructions = to.instructions - (from?.instructions ?? 0);
  const bridge = { ...to.counters };
  if (from) for (const k of Object.keys(bridge) as Array<keyof BridgeCounters>) bridge[k] -= from.counters[k];
  return {
    instructions,
    accesses: d('accesses'),
    tlbMisses: d('misses'),
    walks: d('walks'),
    walkRefs: d('walkRefs'),
    exits,
    totalExits: Object.values(exits).reduce((s, n) => s + n, 0),
    mmodeEntries: d('mmodeEntries'),
    syncs: d('syncs'),
    hiddenFaults: d('hiddenFaults'),
    guestFaults: d('guestFaults'),
    translationCycles: d('cycles'),
    cycles: instructions * BASE_CPI + d('cycles'),
    bridge,
  };
}

export interface TimedBoot {
  strategy: string;
  result: RunResult;
  whole: MmuFigures;
  /** The window's figures, or null when its lines did not both appear. */
  window: MmuFigures | null;
  bridge: MmuBridge;
}

/**
 * Boots `machine` (its console goes to `onConsole`) under the strategy of plugin
 * mmu.<id> on host `profile`; marks the window at the ends of the first console lines
 * that start with window[0] and window[1].
 */
export async function bootTimed(opts: {
  strategy: string;
  profile?: string;
  options?: Record<string, unknown>;
  machine: Omit<MachineOptions, 'console'>;
  onConsole?: (byte: number) => void;
  window?: readonly [string, string];
  maxInstructions?: number;
  unprotectAfter?: number;
}): Promise<TimedBoot> {
  const strategy = await mmuStrategy(opts.strategy, opts.profile, opts.options);
  const window = opts.window ?? FORKMAP_WINDOW;
  const marks: Array<BridgeMark | null> = [null, null];
  let bridge: MmuBridge | null = null;
  const lines = consoleLines((line) => {
    const text = line.replace(/^\[ *\d+\.\d+\] /, '');
    for (let i = 0; i < 2; i++) if (marks[i] === null && (i === 0 || marks[0] !== null) && text.startsWith(window[i])) marks[i] = bridge!.mark();
  });
  const machine = new VirtMachine({
    ...opts.machine,
    console: (b) => {
      opts.onConsole?.(b);
      lines(b);
    },
  });
  bridge = attachMmu(machine, strategy, { unprotectAfter: opts.unprotectAfter });
  const result = machine.run(opts.maxInstructions ?? Infinity);
  const end = bridge.mark();
  return {
    strategy: strategy.name,
    result,
    whole: figures(null, end),
    window: marks[0] && marks[1] ? figures(marks[0], marks[1]) : null,
    bridge,
  };
}

const n = (x: number) => Math.round(x).toLocaleString('en-US');
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/** The lines `virtlab boot --mmu` prints: one column per stretch (whole boot, window), overhead against native's figures when given. */
export function report(run: TimedBoot, native: TimedBoot | null, windowName = 'forkmap window'): string[] {
  const cols: Array<[string, MmuFigures, MmuFigures | null]> = [['whole boot', run.whole, native?.whole ?? null]];
  if (run.window) cols.push([windowName, run.window, native?.window ?? null]);
  const rows: Array<[string, (f: MmuFigures, nat: MmuFigures | null) => string]> = [
    ['instructions', (f) => n(f.instructions)],
    ['accesses (loads and stores)', (f) => n(f.accesses)],
    ['TLB misses', (f) => n(f.tlbMisses)],
    ['walks (references)', (f) => `${n(f.walks)} (${n(f.walkRefs)})`],
    ['VM exits', (f) => `${n(f.totalExits)}${f.totalExits ? ` (${Object.entries(f.exits).map(([c, k]) => `${c} ${n(k)}`).join(', ')})` : ''}`],
    ['machine-mode entries', (f) => n(f.mmodeEntries)],
    ['shadow syncs', (f) => n(f.syncs)],
    ['hidden faults', (f) => n(f.hiddenFaults)],
    ['guest faults', (f) => n(f.guestFaults)],
    ['translation cycles', (f) => n(f.translationCycles)],
    [`cycles (${BASE_CPI} per instruction + translation)`, (f) => n(f.cycles)],
    ['overhead vs native', (f, nat) => (nat ? pct(f.cycles / nat.cycles - 1) : '—')],
    ['satp writes / sfence.vma (whole space) / pt writes', (f) => `${n(f.bridge.satpWrites)} / ${n(f.bridge.sfences)} (${n(f.bridge.fullFlushes)}) / ${n(f.bridge.ptWrites)}`],
    ['privilege changes', (f) => n(f.bridge.privilegeChanges)],
    ['page-table pages marked / unmarked', (f) => `${n(f.bridge.tablePagesMarked)} / ${n(f.bridge.tablePagesUnmarked)}`],
  ];
  const out = [`MMU ${run.strategy}:${' '.repeat(Math.max(1, 48 - run.strategy.length))}${cols.map(([name]) => name.padEnd(48)).join('')}`];
  for (const [label, fmt] of rows) out.push(`  ${label.padEnd(52)}${cols.map(([, f, nat]) => fmt(f, nat).padEnd(48)).join('')}`);
  return out;
}
