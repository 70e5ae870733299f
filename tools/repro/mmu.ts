// The memory-virtualization reproduction table (`npm run repro:mmu`): runs the three
// scenarios of scenarios/repro/ with their strategies swapped and prints what the
// model gives beside what the papers report. Only the paper column is quoted.

import { readFileSync } from 'node:fs';
import { runText } from '../node/testing';

const scenario = (name: string) => readFileSync(`scenarios/repro/${name}.scenario.yaml`, 'utf8');
const swap = (text: string, mmu: string) => text.replace(/  mmu\.[a-z-]+: \{\}/, `  ${mmu}`);
const set = (text: string, from: string, to: string) => text.replace(from, to);

async function metric(text: string, name: string): Promise<number> {
  const { sim } = await runText(text);
  return sim.metrics.value(name)!;
}

(async () => {
  const ce = scenario('compromis-vs-ept');
  const five = set(set(ce, 'x86-64-server', 'x86-64-5level-server'), 'guestLevels: 4', 'guestLevels: 5');
  const refs = async (t: string, mmu: string) => metric(swap(t, `${mmu}: {}`), 'mmu.walk.references-per-miss');
  console.log('quantity                                              model        paper');
  console.log(`refs per TLB miss, nested 4+4 vs direct segment       ${await refs(ce, 'mmu.nested-paging')} vs ${await refs(ce, 'mmu.compromis')}     24 vs 4`);
  console.log(`refs per TLB miss, nested 5+5 vs direct segment       ${await refs(five, 'mmu.nested-paging')} vs ${await refs(five, 'mmu.compromis')}     35 vs 5`);
  for (const pages of [256, 4096, 65536]) {
    const t = set(ce, 'pagesPerProcess: 32768', `pagesPerProcess: ${pages}`);
    const c = await metric(t, 'mmu.cycles-per-access');
    const miss = await metric(t, 'mmu.tlb.miss-rate');
    const ept = (await metric(swap(t, 'mmu.nested-paging: {}'), 'mmu.cycles-per-access')) / c;
    const eptCached = (await metric(swap(t, 'mmu.nested-paging: { pageWalkCache: true, nestedTlb: true }'), 'mmu.cycles-per-access')) / c;
    const shadow = (await metric(swap(t, 'mmu.shadow-paging: {}'), 'mmu.cycles-per-access')) / c;
    console.log(
      `Compromis speedup at TLB miss rate ${(miss * 100).toFixed(1).padStart(5)}%: vs EPT ${ept.toFixed(2)}× (${eptCached.toFixed(2)}× with walk caches), vs shadow ${shadow.toFixed(2)}×   up to 3.7× / 1.3×`,
    );
  }
  const ss = set(scenario('ssp-vs-shadow'), 'switchesPerTick: 1', 'switchesPerTick: 0');
  for (const churn of [0.5, 2, 8]) {
    const t = set(ss, 'churnPerTick: 4', `churnPerTick: ${churn}`);
    const shadow = await metric(swap(t, 'mmu.shadow-paging: {}'), 'mmu.exits');
    const ssp = await metric(t, 'mmu.exits');
    const native = await metric(swap(t, 'mmu.native: {}'), 'mmu.cycles-per-access');
    const sspCpa = await metric(t, 'mmu.cycles-per-access');
    console.log(`SSP at ${String(churn).padStart(3)} churn events per tick: ${((1 - ssp / shadow) * 100).toFixed(1)}% fewer VM exits than shadow paging, ${((sspCpa / native - 1) * 100).toFixed(1)}% slower than native   23–56% fewer, <5.5%`);
  }
  const bt = scenario('btmmu-vs-softmmu');
  for (const cpa of [40, 8, 1]) {
    const t = set(bt, 'cyclesPerAccess: 4', `cyclesPerAccess: ${cpa}`);
    const g = (await metric(swap(t, 'mmu.softmmu: {}'), 'mmu.cycles-per-access')) / (await metric(t, 'mmu.cycles-per-access'));
    console.log(`BTMMU speedup over SoftMMU, ${String(cpa).padStart(2)} compute cycles per access: ${g.toFixed(2)}×   1.36–1.40×`);
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
