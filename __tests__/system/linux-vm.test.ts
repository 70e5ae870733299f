// scenarios/linux-vm.scenario.yaml, as `virtlab run` runs it: a VM on a 1.2 GHz RISC-V
// board boots OpenSBI, Linux and our init on simulated time, and powers off, which
// ends its workload; the scenario's expectations (power-off, no failure, its console
// lines in order) hold. The only boot in this file (about 108 million instructions).
//
// Mutation that must break it (checked): the machine granted cycles at 1 GHz rather
// than at its host's clock (the power-off time is then instructions / 1 GHz).
import { Simulation } from '../../core/simulation';
import { loadScenarioFile } from '../../tools/node/scenario-file';

it('boots Linux in a scenario VM to power-off on simulated time and meets the expectations', async () => {
  const { scenario, catalog, files } = loadScenarioFile('scenarios/linux-vm.scenario.yaml');
  const sim = await Simulation.create({ scenario, catalog, files });
  sim.run();
  const r = await sim.finish();
  expect(r.expectations.filter((e) => !e.ok).map((e) => e.reason)).toEqual([]);
  const metric = (name: string) => (r.metrics.metrics as Record<string, { value?: number; max?: number; count?: number }>)[name];
  const instructions = metric('linux.instructions').value!;
  // No WFI idles in this boot: the machine's clock is its instructions, run at 1.2 GHz.
  expect(metric('linux.power-off-time').max).toBeCloseTo((instructions / 1.2e9) * 1e9, 0);
  expect(metric('linux.boot-to-init').count).toBe(1);
  expect(metric('linux.boot-to-init').max).toBeLessThan(metric('linux.power-off-time').max!);
  const console = r.files.get('console/boot-0.txt')!;
  expect(console).toMatch(/^\r?\nOpenSBI v1\.1\r\n/);
  expect(console).toMatch(/init: all programs done, powering off\r\n.*reboot: Power down\r\n$/s);
  expect(r.summary).toMatch(/- linux VM boot-0: powered off at [\d.]+ ms; init at [\d.]+ ms, [\d,]+ instructions, console\/boot-0\.txt\n {4}\| (.*\n){3} {4}\| reboot: Power down/);
}, 600_000);
