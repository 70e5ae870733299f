// workload.guest: runs a real guest program in each VM whose group declares
// `workload: { kind: guest, program: … }`. The program runs on a GuestCpu entity (the
// VM's first vCPU) through the ExecutionEngine that a `cpu.engine` plugin provides.
// Each tick a running guest retires frequency × tick × IPC × speed instructions; its
// clock (clock_gettime, gettimeofday) is the simulated clock, advanced within the
// tick by the instructions already retired and by the time that hooks.cpu.syscall and
// hooks.cpu.trap handlers charged (which the guest then pays for with fewer
// instructions, from the start of its next tick). Standard output and error are kept for
// the results (guests/<vm>.stdout|.stderr) and exit statuses go into the summary.
//
// Timing mode (mmuTiming): every load and store goes through the MMU strategy over a
// guest page table that starts empty. A page's first touch is a guest page fault
// (charged as the strategy charges it); the kernel, entered through privilege(), maps
// it with a page-table write and returns, and the access is retried. Each system call
// enters supervisor mode and returns (two privilege events per call, none per access).
// Stores pass `write`, so nested paging sets EPT D bits. A plugin that asks for a
// guest VM's page-access stream (dirty logging, working-set estimation) gets each
// step's accesses as one batch; the vCPU time the batch cost it (VM exits) and stalls
// charged to the VM delay the guest's next instructions. Nothing is recorded when no
// plugin asks.

import {
  definePlugin,
  ExecutionEngine,
  GuestKernel,
  MmuMetrics,
  MmuStrategy,
  GuestCpu,
  GuestPageAccessStream,
  PRIV_SUPERVISOR,
  PRIV_USER,
  STAGE_EARLY,
  type PageAccessSink,
  type PageAccessStream,
  GuestState,
  Host,
  signalStatus,
  Vm,
  VmState,
  type GuestInstance,
} from 'virtlab';
import type { Options } from './options';

interface Output {
  out: Uint8Array[];
  err: Uint8Array[];
  kept: number;
  dropped: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export default definePlugin<Options>((api) => {
  const instances = new Map<number, GuestInstance>();
  const outputs = new Map<number, Output>();
  const names = new Map<number, string>();
  const rng = api.rng('random');
  const instructions = api.counter('guest.instructions', 'instructions', 'Guest instructions retired.');
  const exited = api.counter('guest.exited', 'programs', 'Guest programs that exited.');
  const killed = api.counter('guest.killed', 'programs', 'Guest programs killed by a signal.');
  const running = api.gauge('guest.running', 'programs', 'Guest programs still running.');
  let cpus: readonly number[] = [];
  /** Timing mode: per guest, its page-table kernel and the pages it has touched. */
  const timingKernels = new Map<number, { kernel: GuestKernel; touched: Uint8Array }>();
  /** Timing mode: per guest, translation cycles owed (delaying its next instructions). */
  const debt = new Map<number, { cycles: number }>();
  let strategy: MmuStrategy | undefined;
  const translation = api.counter('guest.translation-cycles', 'cycles', 'Cycles guests spent on address translation (timing mode).');
  const mmuMetrics = api.options.mmuTiming ? new MmuMetrics(api) : undefined;
  /**
   * Per guest, at the start of its current tick: simulated time (plus the charged time
   * paid before its first instruction), instructions retired and time charged so far.
   */
  const clocks = new Map<number, { time: number; instructions: number; charged: number }>();
  /** Per guest: charged time not yet paid for with instruction budget, in host cycles. */
  const chargeDebt = new Map<number, { cycles: number }>();
  /**
   * Timing mode: per VM entity, the plugins that asked for its page accesses, the
   * current step's batch (pages are the guest's page numbers), its guest vCPU entity
   * (-1 until boot) and the vCPU time lost to stalls so far.
   */
  interface GuestStream {
    sinks: PageAccessSink[];
    pages: Uint32Array;
    writes: Uint8Array;
    vcpus: Uint16Array;
    count: number;
    cpu: number;
    stalledNs: number;
  }
  const streams = new Map<number, GuestStream>();
  const streamOf = (vm: number): GuestStream => {
    let st = streams.get(vm);
    if (!st) streams.set(vm, (st = { sinks: [], pages: new Uint32Array(4096), writes: new Uint8Array(4096), vcpus: new Uint16Array(4096), count: 0, cpu: -1, stalledNs: 0 }));
    return st;
  };
  const grow = (st: GuestStream) => {
    const n = st.pages.length * 2;
    const pages = new Uint32Array(n);
    pages.set(st.pages);
    st.pages = pages;
    const writes = new Uint8Array(n);
    writes.set(st.writes);
    st.writes = writes;
    st.vcpus = new Uint16Array(n); // one vCPU: all zeros
  };
  /** Host cycles per ns of the host the VM runs on. */
  const cyclesPerNs = (vm: number) => api.sim.world.store(Host).frequency[api.sim.world.store(Vm).host[vm]] / 1e9;
  const guestStream: PageAccessStream = {
    subscribe(vm, sink) {
      if (!api.options.mmuTiming) throw new Error(`VM ${vm} runs a real guest: its page accesses are streamed only in timing mode (workload.guest { mmuTiming: true })`);
      streamOf(vm).sinks.push(sink);
    },
    stall(vm, ns) {
      const st = streams.get(vm);
      if (!st || st.cpu < 0) throw new Error(`VM ${vm} has no guest access stream: subscribe before charging stalls`);
      st.stalledNs += ns;
      chargeDebt.get(st.cpu)!.cycles += ns * cyclesPerNs(vm);
    },
    stalledNs: (vm) => streams.get(vm)?.stalledNs ?? 0,
    // The VM's memory in 4 KiB pages (the estimators convert pages to bytes with it); the guest's page numbers stay below it.
    pages: (vm) => Math.max(1, Math.floor(api.sim.world.store(Vm).memory[vm] / 4096)),
    // The guest runs on the VM's first vCPU.
    vcpus: () => 1,
  };
  api.provide(GuestPageAccessStream, { useValue: guestStream });

  const keep = (o: Output, stream: Uint8Array[], bytes: Uint8Array) => {
    const room = api.options.maxOutput - o.kept;
    if (room <= 0) o.dropped += bytes.length;
    else {
      stream.push(bytes.slice(0, room));
      o.kept += Math.min(room, bytes.length);
      o.dropped += Math.max(0, bytes.length - room);
    }
  };

  api.hooks.lifecycle.boot.tap(api.id, (sim) => {
    const engine = sim.services.get(ExecutionEngine);
    if (api.options.mmuTiming) {
      strategy = sim.services.tryGet(MmuStrategy);
      if (!strategy) throw new Error('workload.guest { mmuTiming: true } needs an MMU strategy: add one of the mmu.* plugins');
    }
    const V = sim.world.store(Vm);
    const perGroup = new Map<number, number>();
    for (const vm of sim.world.query([Vm])) {
      const group = sim.scenario.vms[V.group[vm]];
      const w = group.workload;
      if (w?.kind !== 'guest') continue;
      const program = w.program as string;
      const elf = sim.files.get(program);
      if (!elf) throw new Error(`VM group '${group.name}' runs ${program}, which the runner did not load`);
      const index = perGroup.get(V.group[vm]) ?? 0;
      perGroup.set(V.group[vm], index + 1);
      const cpu = sim.world.spawn(GuestCpu);
      const G = sim.world.store(GuestCpu);
      G.vm[cpu] = vm;
      G.state[cpu] = GuestState.Running;
      G.ipc[cpu] = w.ipc as number;
      names.set(cpu, `${group.name}-${index}`);
      const output: Output = { out: [], err: [], kept: 0, dropped: 0 };
      outputs.set(cpu, output);
      let stdin: Uint8Array | null = encoder.encode(w.stdin as string);
      const clock = { time: 0, instructions: 0, charged: 0 };
      clocks.set(cpu, clock);
      chargeDebt.set(cpu, { cycles: 0 });
      const owed = { cycles: 0 };
      debt.set(cpu, owed);
      let timing: Pick<Parameters<typeof engine.start>[0], 'onMemoryAccess' | 'onMemoryMap'> = {};
      if (strategy) {
        // The guest's page table, filled by demand faults as the program touches pages.
        const mmu = strategy;
        const k = new GuestKernel(cpus.length + names.size, Math.floor(Math.min(api.options.memory, V.memory[vm]) / 4096) + 64, api.options.pageTableLevels);
        k.spawn();
        mmu.attach(k);
        const touched = new Uint8Array(Math.ceil(Math.min(api.options.memory, V.memory[vm]) / 4096));
        timingKernels.set(cpu, { kernel: k, touched });
        const st = streamOf(vm);
        st.cpu = cpu;
        timing = {
          onMemoryAccess: (address, write) => {
            const vpn = Math.floor(address / 4096);
            if (!touched[vpn]) {
              // Demand paging: the page is not mapped, so the access is a guest page fault
              // (delivered as the strategy delivers it); the kernel maps the page (an
              // invalid entry filled: no flush) and returns, and the access is retried.
              touched[vpn] = 1;
              owed.cycles += mmu.access(k, vpn, write);
              owed.cycles += mmu.privilege(k, PRIV_SUPERVISOR);
              owed.cycles += mmu.ptWrite(k, k.mapPage(0, vpn), 0, [vpn]);
              owed.cycles += mmu.privilege(k, PRIV_USER);
            }
            owed.cycles += mmu.access(k, vpn, write);
            if (st.sinks.length) {
              if (st.count === st.pages.length) grow(st);
              st.pages[st.count] = vpn;
              st.writes[st.count++] = write ? 1 : 0;
            }
          },
          onMemoryMap: (event, start, length) => {
            for (let vpn = Math.floor(start / 4096); vpn < Math.ceil((start + length) / 4096); vpn++) {
              if (!touched[vpn]) continue;
              if (event === 'unmap') {
                touched[vpn] = 0;
                const addr = k.unmapPage(0, vpn);
                if (addr >= 0) owed.cycles += mmu.ptWrite(k, [addr], 0, [vpn]);
              } else {
                const addr = k.protect(0, vpn, 0);
                if (addr >= 0) owed.cycles += mmu.ptWrite(k, [addr], 0, [vpn]);
              }
              // The guest kernel must flush a page whose entry it changed.
              owed.cycles += mmu.flush(k, k.processes[0].asid, vpn);
            }
          },
        };
      }
      const instance = engine.start({
        ...timing,
        elf,
        vcpu: cpu,
        programPath: program.split('/').pop()!,
        argv: [program.split('/').pop()!, ...(w.args as string[])],
        envp: Object.entries(w.env as Record<string, string>).map(([k, v]) => `${k}=${v}`),
        files: sim.files,
        memoryBytes: Math.min(api.options.memory, V.memory[vm]),
        stackBytes: api.options.stack,
        maxInstructions: w.maxInstructions as number,
        readStdin: (max) => {
          if (!stdin || stdin.length === 0) return null;
          const chunk = stdin.slice(0, max);
          stdin = stdin.slice(max);
          return chunk;
        },
        writeStdout: (b) => keep(output, output.out, b),
        writeStderr: (b) => keep(output, output.err, b),
        now: () => {
          // Simulated time at the start of the tick plus the instructions retired and the time charged in it.
          const hz = sim.world.store(Host).frequency[V.host[vm]] * G.ipc[cpu];
          const instance = instances.get(cpu)!;
          return clock.time + ((instance.instructions - clock.instructions) / hz) * 1e9 + (instance.chargedNs - clock.charged);
        },
        randomBytes: (out) => rng.fillBytes(out),
      });
      instances.set(cpu, instance);
    }
    cpus = sim.world.query([GuestCpu]);
    running.set(cpus.length);
  });

  // A system call enters the guest kernel and returns: two privilege events per call.
  // Early, so that a call another handler answers (emulates) enters the kernel too.
  if (api.options.mmuTiming) {
    api.hooks.cpu.syscall.tap({ name: api.id, stage: STAGE_EARLY }, (e) => {
      const t = timingKernels.get(e.vcpu);
      if (!t || !strategy) return undefined;
      debt.get(e.vcpu)!.cycles += strategy.privilege(t.kernel, PRIV_SUPERVISOR) + strategy.privilege(t.kernel, PRIV_USER);
      return undefined;
    });
  }

  api.addSystem({
    name: `${api.id}/run`,
    phase: 'cpu',
    reads: [Vm, Host],
    writes: [GuestCpu, Vm],
    run(sim) {
      const G = sim.world.store(GuestCpu);
      const V = sim.world.store(Vm);
      const H = sim.world.store(Host);
      const seconds = sim.dtNs / 1e9;
      let live = 0;
      for (const cpu of cpus) {
        if (G.state[cpu] !== GuestState.Running) continue;
        live++;
        const vm = G.vm[cpu];
        const vmState = V.state[vm];
        if (vmState !== VmState.Running && vmState !== VmState.Migrating) continue;
        V.cpuDemand[vm] = 1 / V.vcpus[vm];
        const available = H.frequency[V.host[vm]] * seconds * V.speed[vm];
        // In timing mode, translation cycles owed from earlier ticks delay the guest.
        const owed = debt.get(cpu)!;
        const paying = Math.min(owed.cycles, available);
        owed.cycles -= paying;
        const before0 = owed.cycles;
        // Time charged by syscall and trap handlers is paid next, before the first instruction.
        // (A guest runs its whole tick's budget and pays for what it was charged in it
        // from the next tick on, as it pays translation cycles in timing mode.)
        const charged = chargeDebt.get(cpu)!;
        const hz = H.frequency[V.host[vm]];
        const payingCharge = Math.min(charged.cycles, available - paying);
        charged.cycles -= payingCharge;
        const budget = Math.floor((available - paying - payingCharge) * G.ipc[cpu]);
        const instance = instances.get(cpu)!;
        const clock = clocks.get(cpu)!;
        clock.time = sim.timeNs + (payingCharge > 0 ? (payingCharge / hz) * 1e9 : 0);
        clock.instructions = instance.instructions;
        clock.charged = instance.chargedNs;
        const before = instance.instructions;
        const status = instance.run(budget);
        if (instance.chargedNs !== clock.charged) charged.cycles += ((instance.chargedNs - clock.charged) * hz) / 1e9;
        const st = streams.get(vm);
        if (st && st.count > 0) {
          // The step's accesses, handed over as one batch; what they cost the vCPU delays it.
          const b = { vm, count: st.count, pages: st.pages, writes: st.writes, vcpus: st.vcpus, vcpuCount: 1, startNs: sim.timeNs, endNs: sim.timeNs + sim.dtNs };
          let lost = 0;
          for (let i = 0; i < st.sinks.length; i++) lost += st.sinks[i](b);
          st.count = 0;
          if (lost > 0) {
            st.stalledNs += lost;
            charged.cycles += lost * cyclesPerNs(vm);
          }
        }
        instructions.add(instance.instructions - before);
        translation.add(owed.cycles - before0);
        G.instructions[cpu] = instance.instructions;
        if (status.state === 'running') continue;
        live--;
        V.cpuDemand[vm] = 0;
        G.exitedAt[cpu] = sim.timeNs;
        if (status.state === 'exited') {
          G.state[cpu] = GuestState.Exited;
          G.exitCode[cpu] = status.exitCode ?? 0;
          exited.add();
        } else if (status.state === 'signaled') {
          G.state[cpu] = GuestState.Signaled;
          G.exitCode[cpu] = signalStatus(status.signal ?? 0);
          killed.add();
          if (status.fault) {
            const f = status.fault;
            const report = `${names.get(cpu)}: ${f.reason} at pc 0x${f.pc.toString(16)} (${f.instruction}), address 0x${f.address.toString(16)}\n`;
            keep(outputs.get(cpu)!, outputs.get(cpu)!.err, encoder.encode(report));
          }
        } else {
          G.state[cpu] = GuestState.Limit;
          G.exitCode[cpu] = -1;
        }
      }
      running.set(live);
      if (mmuMetrics && strategy && sim.sampling) {
        let computeCycles = 0;
        for (const cpu of cpus) computeCycles += G.instructions[cpu] / G.ipc[cpu];
        mmuMetrics.publish(strategy.stats, computeCycles);
      }
    },
  });

  api.hooks.lifecycle.finish.tapPromise(api.id, async (f) => {
    // The execution engine's counters per guest (units translated, chain hits, …) go
    // to guests/engine.json, not to metrics.json: they describe how the host ran the
    // guest, and a run resumed from a checkpoint starts with empty translation caches,
    // so they are not simulation state (metrics.json must match the uninterrupted run).
    const engineCounters: Record<string, Record<string, number>> = {};
    for (const cpu of cpus) engineCounters[names.get(cpu)!] = instances.get(cpu)!.counters();
    // Translation cycles by cause, and accesses against hits plus misses, in the summary.
    if (mmuMetrics && strategy) for (const line of MmuMetrics.summary(strategy.stats, strategy.stats.accesses, false)) f.addSummaryLine(line);
    if (cpus.length) f.addFile('guests/engine.json', JSON.stringify({ engine: f.sim.services.get(ExecutionEngine).id, guests: engineCounters }, null, 2) + '\n');
    const G = f.sim.world.store(GuestCpu);
    for (const cpu of cpus) {
      const name = names.get(cpu)!;
      const o = outputs.get(cpu)!;
      f.addFile(`guests/${name}.stdout`, o.out.map((b) => decoder.decode(b)).join(''));
      f.addFile(`guests/${name}.stderr`, o.err.map((b) => decoder.decode(b)).join(''));
      const state = ['', 'still running', 'exited', 'killed', 'stopped at its instruction limit'][G.state[cpu]];
      const unimplemented = [...instances.get(cpu)!.unimplemented().entries()].map(([n, c]) => `${n}×${c}`).join(', ');
      f.addSummaryLine(
        `- guest ${name}: ${state}${G.state[cpu] === GuestState.Exited || G.state[cpu] === GuestState.Signaled ? ` with status ${G.exitCode[cpu]}` : ''}, ` +
          `${G.instructions[cpu]} instructions${o.dropped ? `, ${o.dropped} output bytes dropped` : ''}${unimplemented ? `, unimplemented syscalls ${unimplemented}` : ''}`,
      );
    }
  });

  api.persist('guests', {
    save: () => {
      const timing = strategy
        ? { strategy: strategy.saveState(), kernels: [...timingKernels].map(([cpu, t]) => [cpu, t.kernel.save(), t.touched.slice()]) }
        : null;
      const guests = cpus.map((cpu) => {
        const o = outputs.get(cpu)!;
        return { cpu, state: instances.get(cpu)!.save(), out: o.out, err: o.err, kept: o.kept, dropped: o.dropped, debt: debt.get(cpu)!.cycles, chargeDebt: chargeDebt.get(cpu)!.cycles };
      });
      const stalled = [...streams].filter(([, st]) => st.cpu >= 0).map(([vm, st]) => [vm, st.stalledNs]);
      return { guests, timing, stalled };
    },
    load: (data) => {
      const d = data as { guests: unknown[]; timing: { strategy: unknown; kernels: Array<[number, unknown, Uint8Array]> } | null; stalled?: Array<[number, number]> };
      for (const [vm, ns] of d.stalled ?? []) streamOf(vm).stalledNs = ns;
      if (d.timing && strategy) {
        for (const [cpu, kernel, touched] of d.timing.kernels) {
          const t = timingKernels.get(cpu)!;
          t.kernel.load(kernel);
          t.touched.set(touched);
        }
        strategy.loadState(d.timing.strategy);
      }
      for (const s of d.guests as Array<{ cpu: number; state: unknown; out: Uint8Array[]; err: Uint8Array[]; kept: number; dropped: number; debt: number; chargeDebt?: number }>) {
        instances.get(s.cpu)!.load(s.state);
        debt.get(s.cpu)!.cycles = s.debt;
        chargeDebt.get(s.cpu)!.cycles = s.chargeDebt ?? 0;
        Object.assign(outputs.get(s.cpu)!, { out: s.out, err: s.err, kept: s.kept, dropped: s.dropped });
      }
    },
  });
});
