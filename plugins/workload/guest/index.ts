// workload.guest: runs a real guest program in each VM whose group declares
// `workload: { kind: guest, program: … }`. The program runs on a GuestCpu entity (the
// VM's first vCPU) through the ExecutionEngine that a `cpu.engine` plugin provides.
// Each tick a running guest retires frequency × tick × IPC × speed instructions; its
// clock (clock_gettime, gettimeofday) is the simulated clock, advanced within the
// tick by the instructions already retired. Standard output and error are kept for
// the results (guests/<vm>.stdout|.stderr) and exit statuses go into the summary.

import {
  definePlugin,
  ExecutionEngine,
  GuestCpu,
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
  /** Per guest: simulated time and instruction count at the start of its current tick. */
  const clocks = new Map<number, { time: number; instructions: number }>();

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
      const clock = { time: 0, instructions: 0 };
      clocks.set(cpu, clock);
      const instance = engine.start({
        elf,
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
          // Simulated time at the start of the tick plus the instructions retired in it.
          const hz = sim.world.store(Host).frequency[V.host[vm]] * G.ipc[cpu];
          return clock.time + ((instances.get(cpu)!.instructions - clock.instructions) / hz) * 1e9;
        },
        randomBytes: (out) => rng.fillBytes(out),
      });
      instances.set(cpu, instance);
    }
    cpus = sim.world.query([GuestCpu]);
    running.set(cpus.length);
  });

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
        const budget = Math.floor(H.frequency[V.host[vm]] * seconds * G.ipc[cpu] * V.speed[vm]);
        const instance = instances.get(cpu)!;
        const clock = clocks.get(cpu)!;
        clock.time = sim.timeNs;
        clock.instructions = instance.instructions;
        const before = instance.instructions;
        const status = instance.run(budget);
        instructions.add(instance.instructions - before);
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
    },
  });

  api.hooks.lifecycle.finish.tapPromise(api.id, async (f) => {
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
    save: () =>
      cpus.map((cpu) => {
        const o = outputs.get(cpu)!;
        return { cpu, state: instances.get(cpu)!.save(), out: o.out, err: o.err, kept: o.kept, dropped: o.dropped };
      }),
    load: (data) => {
      for (const s of data as Array<{ cpu: number; state: unknown; out: Uint8Array[]; err: Uint8Array[]; kept: number; dropped: number }>) {
        instances.get(s.cpu)!.load(s.state);
        Object.assign(outputs.get(s.cpu)!, { out: s.out, err: s.err, kept: s.kept, dropped: s.dropped });
      }
    },
  });
});
