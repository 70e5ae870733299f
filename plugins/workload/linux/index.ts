// workload.linux: a VM group that declares `workload: { kind: linux, … }` boots a
// machine compatible with QEMU's virt board in each of its VMs (by default OpenSBI's
// fw_jump, the committed Linux 6.1 and our initramfs, as `virtlab boot` does), on
// simulated time. Each tick the machine is granted host frequency × tick × speed × IPC
// cycles and runs until its own clock reaches them (PacedMachine); its power-off ends
// the workload. Console lines are stamped with the simulated time their newline left
// the UART, which depends on the machine's cycles alone, so the times, like the
// console and the instruction counts, do not depend on the tick length.
//
// A reset ends the VM too (the machine is not rebooted, as under `qemu -no-reboot`),
// and a hart waiting for an interrupt that nothing can raise ends it as hung: both are
// failures in the summary, as is a power-off with a non-zero status.
//
// Timing mode: when the scenario selects an MMU strategy (an mmu.* plugin), each
// machine's memory behaviour goes through it (attachMmu: loads and stores, satp
// writes, sfence.vma, privilege changes, stores to page-table pages), the cycles it
// charges (its translation cycles while the VM's machine runs) delay the VM (not the guest: its console and instructions are those of a
// plain run), and the strategy's counters are the run's mmu.* metrics.
//
// Snapshots: the machine's RAM, hart and devices are not saved, so a snapshot taken
// while a Linux VM runs is refused (the run cannot be resumed or scrubbed in `view`);
// before a VM starts and after it ends, its record is all there is, and it is saved.

import {
  attachMmu,
  COMMITTED_LINUX_FILES,
  definePlugin,
  formatDuration,
  formatNumber,
  Host,
  MmuMetrics,
  MmuStrategy,
  PacedMachine,
  simulationNames,
  Vm,
  VmState,
  type BridgeCounters,
  type MmuBridge,
  type PacedEnd,
  type PacedMachineOptions,
} from 'virtlab';
import type { Options } from './options';

/** A Linux VM: how to build its machine, the machine once it runs, and what it printed. */
interface LinuxVm {
  vm: number;
  name: string;
  launch: PacedMachineOptions;
  ipc: number;
  paced: PacedMachine | null;
  /** Timing mode: the machine's bridge to the strategy. */
  bridge: MmuBridge | null;
  /** Timing mode: the bridge's counters once the machine has ended. */
  bridgeCounters: BridgeCounters | null;
  /** Timing mode: translation cycles the strategy charged this VM before its current tick, and the strategy's total when the tick began. */
  translationCycles: number;
  statsMark: number;
  /** Simulated time from power-on to the kernel's "Run … as init process" line, or NaN. */
  initNs: number;
  initLine: string;
  lines: string[];
  /** Lines the console must show in order, and how many of them it has shown. */
  expectLines: string[];
  matched: number;
  /** The hart's counters already added to the metrics. */
  seen: { instructions: number; traps: number; interrupts: number; walks: number };
  end: PacedEnd | null;
  /** The machine's RAM in bytes. */
  memory: number;
  /** The console kept and the bytes dropped, once the machine has ended (or for a snapshot). */
  console: Uint8Array | null;
  dropped: number;
  startNs: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('latin1');
/** The kernel announces init with this line (init/main.c, run_init_process). */
const INIT_LINE = /^(?:\[\s*\d+\.\d+\]\s*)?Run (\S+) as init process$/;
/** A printk timestamp, left out of the lines shown in the summary. */
const STAMP = /^\[\s*\d+\.\d+\]\s?/;

export default definePlugin<Options>((api) => {
  const machines: LinuxVm[] = [];
  const instructions = api.counter('linux.instructions', 'instructions', 'Instructions the Linux VMs’ machines retired.');
  const exceptions = api.counter('linux.exceptions', 'traps', 'Synchronous exceptions the Linux VMs’ harts took (system calls, page faults, illegal instructions, …).');
  const interrupts = api.counter('linux.interrupts', 'interrupts', 'Interrupts the Linux VMs’ harts took (timer, software, external).');
  const walks = api.counter('linux.page-walks', 'walks', 'Page-table walks of the Linux VMs’ harts (TLB misses that walked).');
  const poweredOff = api.counter('linux.powered-off', 'VMs', 'Linux VMs that powered off (with any status).');
  const failed = api.counter('linux.failed', 'VMs', 'Linux VMs that failed: powered off with a non-zero status, reset, hung, or stopped at their instruction limit.');
  const running = api.gauge('linux.running', 'VMs', 'Linux VMs whose machine is still running.');
  const bootToInit = api.histogram('linux.boot-to-init', 'ns', 'Simulated time from a Linux VM’s power-on to the kernel starting init (its "Run /init as init process" line).');
  const missing = api.gauge('linux.console-missing', 'lines', 'Lines the Linux VMs’ workloads expect on their consoles (expectLines) that have not been seen, in order.');
  const translation = api.counter('linux.translation-cycles', 'cycles', 'Cycles the MMU strategy charged the Linux VMs for address translation (timing mode): they delay the VMs, not their guests.');
  let strategy: MmuStrategy | undefined;
  let mmuMetrics: MmuMetrics | undefined;
  const powerOffTime = api.histogram('linux.power-off-time', 'ns', 'Simulated time from a Linux VM’s power-on to its power-off.');

  api.hooks.lifecycle.boot.tap(api.id, (sim) => {
    const V = sim.world.store(Vm);
    const names = simulationNames(sim);
    strategy = sim.services.tryGet(MmuStrategy);
    for (const vm of sim.world.query([Vm])) {
      const group = sim.scenario.vms[V.group[vm]];
      const w = group.workload;
      if (w?.kind !== 'linux') continue;
      const file = (what: 'kernel' | 'initrd' | 'bios'): Uint8Array | undefined => {
        const written = w[what] as string | undefined;
        if (written === 'none') {
          if (what === 'kernel') throw new Error(`VM group '${group.name}': a Linux VM needs a kernel ('none' is only for initrd and bios)`);
          return undefined;
        }
        if (written === undefined && what === 'initrd' && w.kernel !== undefined) return undefined;
        const key = written ?? COMMITTED_LINUX_FILES[what];
        const bytes = sim.files.get(key);
        if (!bytes) throw new Error(`VM group '${group.name}' boots with ${what} ${key.replace(/^virtlab:/, '')}, which the runner did not load`);
        return bytes;
      };
      const memory = (w.memory as number | undefined) ?? V.memory[vm];
      if (memory > V.memory[vm]) throw new Error(`VM group '${group.name}': workload.memory ${memory} bytes is more than the VM's ${V.memory[vm]}`);
      if (memory > 2 ** 31 || memory % 4096 !== 0) {
        throw new Error(`VM group '${group.name}': the machine's RAM would be ${memory} bytes; it must be whole pages and at most 2 GiB (give workload.memory, e.g. 128MiB)`);
      }
      const m: LinuxVm = {
        vm,
        name: names.vm(vm),
        ipc: w.ipc as number,
        paced: null,
        bridge: null,
        bridgeCounters: null,
        translationCycles: 0,
        statsMark: 0,
        initNs: NaN,
        initLine: '',
        lines: [],
        expectLines: w.expectLines as string[],
        matched: 0,
        seen: { instructions: 0, traps: 0, interrupts: 0, walks: 0 },
        end: null,
        memory,
        console: null,
        dropped: 0,
        startNs: NaN,
        launch: {
          memoryBytes: memory,
          kernel: file('kernel')!,
          initrd: file('initrd'),
          bios: file('bios'),
          bootargs: w.append as string,
          mmu: w.paging as 'sv39' | 'sv48' | 'sv57',
          stdin: encoder.encode(w.stdin as string),
          maxConsole: api.options.maxConsole,
          maxInstructions: w.maxInstructions as number,
        },
      };
      m.launch.onLine = (line, timeNs) => {
        // The last few lines for the summary; the whole console goes to its file.
        m.lines.push(line);
        if (m.lines.length > api.options.summaryLines) m.lines.shift();
        if (m.matched < m.expectLines.length && line.replace(STAMP, '') === m.expectLines[m.matched]) {
          m.matched++;
          missing.set(missing.value - 1);
        }
        if (Number.isNaN(m.initNs) && INIT_LINE.test(line)) {
          m.initNs = timeNs - m.paced!.startNs;
          m.initLine = line.replace(STAMP, '');
          bootToInit.record(m.initNs);
        }
      };
      machines.push(m);
    }
    // Timing mode, with an MMU strategy: its counters become the mmu.* metrics.
    if (strategy && machines.length) mmuMetrics = new MmuMetrics(api);
    running.set(0);
    missing.set(machines.reduce((n, m) => n + m.expectLines.length, 0));
  });

  /** Adds what the hart counted since last time to the metrics. */
  const count = (m: LinuxVm) => {
    const h = m.paced!.machine.hart;
    instructions.add(h.instret - m.seen.instructions);
    exceptions.add(h.traps - m.seen.traps);
    interrupts.add(h.interrupts - m.seen.interrupts);
    walks.add(h.pageWalks - m.seen.walks);
    if (m.bridge && strategy) {
      // The VMs run one after the other, so what the strategy counted during this VM's tick is this VM's.
      const charged = strategy.stats.cycles - m.statsMark;
      translation.add(charged);
      m.translationCycles += charged;
      m.statsMark = strategy.stats.cycles;
    }
    m.seen = { instructions: h.instret, traps: h.traps, interrupts: h.interrupts, walks: h.pageWalks };
  };

  const ended = (m: LinuxVm, end: PacedEnd) => {
    m.end = end;
    if (end.reason === 'poweroff') {
      poweredOff.add();
      powerOffTime.record(end.timeNs - m.startNs);
    }
    if (end.reason !== 'poweroff' || end.status !== 0) failed.add();
    // The machine's state is no longer needed: keep what the results show and free its RAM.
    m.console = m.paced!.console().slice();
    m.dropped = m.paced!.dropped;
    m.bridgeCounters = m.bridge ? { ...m.bridge.counters } : null;
    m.paced = null;
    m.bridge = null;
  };

  api.addSystem({
    name: `${api.id}/run`,
    phase: 'cpu',
    reads: [Host],
    writes: [Vm],
    run(sim) {
      const V = sim.world.store(Vm);
      const H = sim.world.store(Host);
      let live = 0;
      for (const m of machines) {
        if (m.end) continue;
        const state = V.state[m.vm];
        if (state !== VmState.Running && state !== VmState.Migrating) {
          if (m.paced) live++;
          continue;
        }
        if (!m.paced) {
          try {
            if (strategy) {
              const s = strategy;
              m.launch.stallCycles = () => m.translationCycles + s.stats.cycles - m.statsMark;
            }
            m.paced = new PacedMachine(m.launch);
          } catch (e) {
            throw new Error(`VM ${m.name}: ${(e as Error).message}`);
          }
          if (strategy) m.bridge = attachMmu(m.paced.machine, strategy, { vmid: machines.indexOf(m) });
          m.startNs = sim.timeNs;
        }
        V.cpuDemand[m.vm] = 1 / V.vcpus[m.vm];
        const cyclesPerNs = (H.frequency[V.host[m.vm]] / 1e9) * V.speed[m.vm] * m.ipc;
        if (strategy) m.statsMark = strategy.stats.cycles;
        const end = m.paced.advance(sim.timeNs, sim.dtNs, cyclesPerNs);
        count(m);
        if (end) {
          ended(m, end);
          V.cpuDemand[m.vm] = 0;
        } else live++;
      }
      running.set(live);
      if (mmuMetrics && strategy && sim.sampling) mmuMetrics.publish(strategy.stats, instructions.value);
    },
  });

  api.hooks.lifecycle.finish.tapPromise(api.id, async (f) => {
    if (mmuMetrics && strategy) {
      for (const line of MmuMetrics.summary(strategy.stats, strategy.stats.accesses, false)) f.addSummaryLine(line);
    }
    for (const m of machines) {
      const consoleBytes = m.console ?? m.paced?.console() ?? new Uint8Array(0);
      const dropped = m.paced ? m.paced.dropped : m.dropped;
      if (m.console || m.paced) f.addFile(`console/${m.name}.txt`, decoder.decode(consoleBytes));
      const instr = m.seen.instructions;
      const at = (ns: number) => formatDuration(ns - m.startNs);
      let state: string;
      const e = m.end;
      if (!e) state = m.paced ? `still running at the end of the run` : 'never started (its VM did not run)';
      else if (e.reason === 'poweroff') state = e.status === 0 ? `powered off at ${at(e.timeNs)}` : `FAILED: powered off with status ${e.status} at ${at(e.timeNs)}`;
      else if (e.reason === 'reset') state = `FAILED: the guest reset the machine at ${at(e.timeNs)} (a reset ends a Linux VM; it is not rebooted)`;
      else if (e.reason === 'idle') state = `FAILED: hung at ${at(e.timeNs)}: the hart waits for an interrupt that nothing can raise (WFI with no timer armed and nothing pending)`;
      else state = `FAILED: stopped at its instruction limit (${formatNumber(instr)}) at ${at(e.timeNs)}`;
      const init = Number.isNaN(m.initNs) ? 'init not started' : `init at ${formatDuration(m.initNs)}`;
      const kept = m.console || m.paced ? `, console/${m.name}.txt${dropped ? ` (${formatNumber(dropped)} bytes dropped)` : ''}` : '';
      f.addSummaryLine(`- linux VM ${m.name}: ${state}; ${init}, ${formatNumber(instr)} instructions${kept}`);
      const bc = m.bridge?.counters ?? m.bridgeCounters;
      if (bc) {
        f.addSummaryLine(
          `  timing mode (${strategy!.name}): ${formatNumber(m.translationCycles)} translation cycles; the kernel wrote satp ${formatNumber(bc.satpWrites)} times, ` +
            `ran sfence.vma ${formatNumber(bc.sfences)} times, wrote page tables ${formatNumber(bc.ptWrites)} times, changed privilege ${formatNumber(bc.privilegeChanges)} times`,
        );
      }
      for (const line of m.lines) f.addSummaryLine(`    | ${line.replace(STAMP, '')}`);
      if (m.matched < m.expectLines.length) f.addSummaryLine(`  console line not seen (expectLines, in order): "${m.expectLines[m.matched]}"${m.expectLines.length - m.matched > 1 ? ` and ${m.expectLines.length - m.matched - 1} after it` : ''}`);
    }
  });

  api.persist('machines', {
    save: () => {
      const live = machines.filter((m) => m.paced);
      if (live.length) {
        throw new Error(
          `Linux VM ${live.map((m) => m.name).join(', ')} is running, and a Linux VM's machine (RAM, hart, devices) is not saved in snapshots: ` +
            'snapshot before its power-on or after its power-off, or leave snapshots out of runs with running Linux VMs',
        );
      }
      return machines.map((m) => ({ end: m.end, initNs: m.initNs, initLine: m.initLine, lines: m.lines, matched: m.matched, seen: m.seen, bridgeCounters: m.bridgeCounters, translationCycles: m.translationCycles, console: m.console, dropped: m.dropped, startNs: m.startNs }));
    },
    load: (data) => {
      const saved = data as Array<Pick<LinuxVm, 'end' | 'initNs' | 'initLine' | 'lines' | 'matched' | 'seen' | 'bridgeCounters' | 'translationCycles' | 'console' | 'dropped' | 'startNs'>>;
      saved.forEach((s, i) => Object.assign(machines[i], s, { paced: null, bridge: null }));
    },
  });
});
