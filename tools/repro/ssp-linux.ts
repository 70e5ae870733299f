// SSP on the real kernel (`npm run repro:ssp-linux`): boots the committed OpenSBI, Linux
// 6.1 and our init (which runs the guest programs, then forkmap, fork- and mmap-heavy)
// in timing mode under native, traditional shadow paging and SSP (and nested paging
// with `-- --nested`), on the riscv-board profile, and prints each strategy's VM exits
// by cause, machine-mode entries, syncs and hidden faults, SSP's exit reduction against
// shadow paging and each one's overhead against native, for the whole boot and for
// forkmap's run alone, beside the paper's figures. Only the paper column is quoted; the
// rest is counted in the runs. `-- --unprotect-after N` changes after how many writes
// with no walk in between a page-table page stops being write-protected (default 3).

import { bootTimed, linuxArtefacts, report, type MmuFigures, type TimedBoot } from '../cli/boot-mmu';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const nested = args.includes('--nested');
  const ua = args.indexOf('--unprotect-after');
  const unprotectAfter = ua >= 0 ? Number(args[ua + 1]) : undefined;
  const machine = linuxArtefacts();
  const strategies = ['native', 'shadow-paging', 'ssp', ...(nested ? ['nested-paging'] : [])];
  const runs = new Map<string, TimedBoot>();
  const consoles = new Map<string, string>();
  for (const s of strategies) {
    const bytes: number[] = [];
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const run = await bootTimed({ strategy: s, machine, onConsole: (b) => bytes.push(b), unprotectAfter });
    const cpu = process.cpuUsage(c0);
    console.log(`${s}: ${run.result.reason} after ${run.result.instructions} instructions; wall ${((performance.now() - t0) / 1000).toFixed(1)} s, CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s`);
    runs.set(s, run);
    consoles.set(s, Buffer.from(bytes).toString('latin1').replace(/^\[ *\d+\.\d+\] /gm, ''));
  }
  const native = runs.get('native')!;
  for (const s of strategies) {
    if (consoles.get(s) !== consoles.get('native') || runs.get(s)!.result.instructions !== native.result.instructions) console.log(`!! ${s}'s console or instruction count differs from native's`);
  }
  console.log('');
  for (const s of strategies) {
    for (const line of report(runs.get(s)!, native)) console.log(line);
    console.log('');
  }
  const shadow = runs.get('shadow-paging')!;
  const ssp = runs.get('ssp')!;
  const row = (q: string, model: string, paper: string) => console.log(`${q.padEnd(58)} ${model.padEnd(40)} ${paper}`);
  const reduction = (a: MmuFigures, b: MmuFigures) => `${(100 * (1 - b.totalExits / a.totalExits)).toFixed(1)}% (${a.totalExits} → ${b.totalExits})`;
  const over = (f: MmuFigures, n: MmuFigures) => `${(100 * (f.cycles / n.cycles - 1)).toFixed(1)}%`;
  console.log('== SSP under the booted Linux kernel, riscv-board profile ==');
  row('quantity', 'model', 'paper');
  row('VM exits avoided by SSP vs shadow paging, whole boot', reduction(shadow.whole, ssp.whole), '23–56%');
  if (shadow.window && ssp.window) row('… during forkmap', reduction(shadow.window, ssp.window), '');
  row('SSP overhead vs native, whole boot (shadow paging)', `${over(ssp.whole, native.whole)} (${over(shadow.whole, native.whole)})`, '< 5.5%');
  if (ssp.window && shadow.window && native.window) row('… during forkmap', `${over(ssp.window, native.window)} (${over(shadow.window, native.window)})`, '');
  const nest = runs.get('nested-paging');
  if (nest) row('nested paging overhead vs native, whole boot', over(nest.whole, native.whole), '');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
