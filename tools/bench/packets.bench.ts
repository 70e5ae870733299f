// Packet-level experiments' speed (`npm run bench:packets`): events per second of
// wall-clock time for TCP_STREAM at small and large messages and for a 1-byte RR,
// and what listing workload.netperf costs a scenario that moves no packets (it
// should cost nothing: no experiment, no events). Prints figures; asserts nothing.

import { PacketExperiment, Rng, scenario } from 'virtlab';
import { loadPersonalities } from '../node/conformance';
import { runText } from '../node/testing';

async function main(): Promise<void> {
  const [linux, lkl] = await loadPersonalities(['kernel.host-linux', 'kernel.lkl']);
  const nic = { bandwidth: 25e9, queues: 8, ringEntries: 1024, mtu: 1500, tso: true, gsoMaxBytes: 65536, checksum: true, gro: true };
  const path = { latencyNs: 5000, rateBps: () => 25e9, loss: 0, reorder: 0, reorderDelayNs: 0, jitterNs: 0 };
  console.log('experiment                     simulated  events     wall ms   events/s');
  for (const p of [linux, lkl]) {
    for (const w of [
      { kind: 'stream' as const, messageBytes: 64, recvBytes: 131072 },
      { kind: 'stream' as const, messageBytes: 65536, recvBytes: 131072 },
      { kind: 'rr' as const, requestBytes: 1, responseBytes: 1, connections: 1 },
    ]) {
      const e = new PacketExperiment({ personality: p, nics: [nic, nic], paths: [path, path], workload: w, startNs: 0, warmupNs: 1e6, rng: new Rng(1) });
      const t0 = performance.now();
      e.advanceTo(50e6);
      const ms = performance.now() - t0;
      const n = e.results().events;
      const label = `${p.id.replace('kernel.', '')} ${w.kind}${'messageBytes' in w ? ` ${w.messageBytes} B` : ''}`;
      console.log(`${label.padEnd(30)} ${'50 ms'.padStart(9)}  ${String(n).padStart(8)}  ${ms.toFixed(0).padStart(8)}  ${((n / ms) * 1e3).toExponential(2).padStart(9)}`);
    }
  }
  const base = scenario('no-packets').duration('30s').tick('100ms').preset('headless').hosts({ profile: 'x86-64-server', racks: 2, perRack: 8 }).vms({ name: 'mem', count: 32, vcpus: 2, memory: '4GiB', workload: { kind: 'synthetic', writesPerSecond: 1000 } as { kind: string } }).noExpectations();
  const time = async (b: typeof base) => {
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await runText(b);
      best = Math.min(best, performance.now() - t0);
    }
    return best;
  };
  const without = await time(base);
  const withPlugin = await time(base.plugin('kernel.lkl').plugin('workload.netperf'));
  console.log(`\nscenario without packet workloads: ${without.toFixed(0)} ms; with kernel.lkl and workload.netperf listed: ${withPlugin.toFixed(0)} ms (best of 3)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
