// A Linux VM's run does not depend on the scenario's tick length: the machine keeps its
// own clock and is only cut at instruction boundaries, so under a 1 ms and a 0.3 ms
// tick (which does not divide it) the console, the instruction, exception, interrupt
// and page-walk counts, and the simulated times of init and of the end, are identical.
// The VM boots to init and a little past it (its instruction limit), once per tick
// length: the only heavy thing in this file.
//
// Mutation that must break it (checked): stamping console lines with the simulated
// time of the tick they were printed in (rather than of the machine's cycle), which
// moves the init time to a tick boundary.
import { Simulation } from '../../core/simulation';
import { loadScenarioFile } from '../../tools/node/scenario-file';

async function bootTo(tick: string) {
  const { scenario, catalog, files } = loadScenarioFile('scenarios/linux-vm.scenario.yaml', {
    set: [
      { path: 'tick', value: tick },
      { path: 'duration', value: '60ms' },
      { path: 'vms.0.workload.maxInstructions', value: 40_000_000 },
    ],
  });
  const sim = await Simulation.create({ scenario, catalog, files });
  sim.run();
  const r = await sim.finish();
  const metrics = r.metrics.metrics as Record<string, { value?: number; max?: number }>;
  const pick = (...names: string[]) => Object.fromEntries(names.map((n) => [n, metrics[n].value ?? metrics[n].max]));
  return {
    console: r.files.get('console/boot-0.txt'),
    metrics: pick('linux.instructions', 'linux.exceptions', 'linux.interrupts', 'linux.page-walks', 'linux.boot-to-init', 'linux.failed'),
    summary: r.summary.split('\n').filter((l) => l.includes('linux VM')),
  };
}

it('gives the same console, counts and times under two tick lengths', async () => {
  const a = await bootTo('1ms');
  const b = await bootTo('300us');
  expect(a.metrics['linux.instructions']).toBe(40_000_000);
  // Past init: the kernel has started it, and the limit stopped the VM (a failure).
  expect(a.console).toContain('Run /init as init process');
  expect(a.metrics['linux.failed']).toBe(1);
  expect(a.summary[0]).toMatch(/stopped at its instruction limit \(40,000,000\) at 33\.33 ms/);
  expect(b).toEqual(a);
}, 600_000);
