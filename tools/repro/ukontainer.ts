// The µKontainer reproduction (`npm run repro:ukontainer`): netperf TCP_STREAM over
// message sizes from 1 B to 64 KiB, 1-byte TCP_RR and an nginx/wrk-style load, for
// every container-kernel personality, each point a real simulation of
// scenarios/repro/ukontainer.scenario.yaml's kind (two x86-64 servers, packets over
// their NICs and link). It prints the goodput curves (one column per personality),
// µKontainer's advantage over native Linux per message size beside the paper's
// headline, the request/response figures, and the conformance table of the tcp
// suite. Every number comes out of the model; only the paper's column is quoted.
//
// `--quick` runs fewer sizes (tests use the exported functions directly);
// `--chart <file.html>` writes the goodput curves as the report's chart.

import { writeFileSync } from 'node:fs';
import { scenario } from 'virtlab';
import { runText } from '../node/testing';
import { formatSuite, loadPersonalities, runSuite, suiteDir } from '../node/conformance';
import { goodputChart } from '../report/report';

export const PERSONALITIES = ['kernel.host-linux', 'kernel.lkl', 'kernel.graphene', 'kernel.gvisor', 'kernel.kata', 'kernel.rump', 'kernel.lwip'] as const;
export const MESSAGE_SIZES = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536] as const;

/** The paper's headline (abstract): short-message goodput up to 84% above native Linux. */
export const PAPER_MAX_ADVANTAGE = 0.84;

/** Kernel options that replace a personality's manifest values (a moved cost, a mutation). */
export type KernelOverrides = Record<string, unknown>;

export interface Point {
  readonly goodputBps: number;
  readonly transactionsPerS: number;
  readonly latencyMeanNs: number;
  readonly retransmits: number;
}

/** One simulation: two hosts, one client VM running `workload` against the other host. */
export async function runPoint(kernel: string, workload: Record<string, unknown>, overrides: KernelOverrides = {}, duration = '12ms'): Promise<Point> {
  const sc = scenario(`ukontainer-${kernel}-${String(workload.kind)}`)
    .seed(1)
    .tick('1ms')
    .duration(duration)
    .preset('headless')
    .hosts({ profile: 'x86-64-server', racks: 1, perRack: 2 })
    .vms({ name: 'client', vcpus: 1, memory: '1GiB', workload: workload as { kind: string } })
    .plugin(kernel, overrides)
    .plugin('workload.netperf')
    .noExpectations();
  const { result } = await runText(sc);
  const rows = JSON.parse(result.files.get('netperf.json')!) as Array<Point>;
  const r = rows[0];
  return { goodputBps: r.goodputBps, transactionsPerS: r.transactionsPerS, latencyMeanNs: r.latencyMeanNs, retransmits: r.retransmits };
}

/** TCP_STREAM goodput, bit/s, of one personality at each message size. */
export async function streamCurve(kernel: string, sizes: readonly number[] = MESSAGE_SIZES, overrides: KernelOverrides = {}): Promise<number[]> {
  const out: number[] = [];
  for (const m of sizes) out.push((await runPoint(kernel, { kind: 'tcp-stream', messageSize: m }, overrides)).goodputBps);
  return out;
}

export const rrPoint = (kernel: string, overrides: KernelOverrides = {}) => runPoint(kernel, { kind: 'tcp-rr', requestSize: 1, responseSize: 1 }, overrides, '20ms');
export const httpPoint = (kernel: string, overrides: KernelOverrides = {}) => runPoint(kernel, { kind: 'http', connections: 32 }, overrides, '20ms');

function size(b: number): string {
  return b >= 1024 ? `${b / 1024} KiB` : `${b} B`;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const sizes = quick ? [1, 64, 1024, 65536] : [...MESSAGE_SIZES];
  const curves = new Map<string, number[]>();
  for (const k of PERSONALITIES) curves.set(k, await streamCurve(k, sizes));
  const names = PERSONALITIES.map((k) => k.replace('kernel.', ''));
  const native = curves.get('kernel.host-linux')!;
  const lkl = curves.get('kernel.lkl')!;
  const pad = (s: string, n = 11) => s.padStart(n);
  console.log('TCP_STREAM goodput (Mbit/s), one column per personality — the report chart plots the same curves');
  console.log(`${'message'.padEnd(8)}${names.map((n) => pad(n)).join('')}${pad('lkl/native', 12)}`);
  sizes.forEach((m, i) => {
    console.log(`${size(m).padEnd(8)}${PERSONALITIES.map((k) => pad((curves.get(k)![i] / 1e6).toFixed(1))).join('')}${pad(`${((lkl[i] / native[i] - 1) * 100).toFixed(0)}%`, 12)}`);
  });
  const chartAt = process.argv.indexOf('--chart');
  if (chartAt > 0 && process.argv[chartAt + 1]) {
    const file = process.argv[chartAt + 1];
    const series = new Map(PERSONALITIES.map((k) => [k.replace('kernel.', ''), curves.get(k)!] as const));
    writeFileSync(file, `<!doctype html><meta charset="utf-8"><title>µKontainer goodput</title><body style="font:14px system-ui">${goodputChart('TCP_STREAM goodput per personality (model)', sizes, series)}</body>\n`);
    console.log(`chart: ${file}`);
  }
  const adv = sizes.map((_, i) => lkl[i] / native[i] - 1);
  const best = Math.max(...adv);
  console.log('');
  console.log('µKontainer (lkl) short-message goodput over native Linux');
  console.log(`  paper (abstract): up to +${(PAPER_MAX_ADVANTAGE * 100).toFixed(0)}%, shrinking as messages grow`);
  console.log(`  model:            up to +${(best * 100).toFixed(0)}% (at ${size(sizes[adv.indexOf(best)])}), ${(adv[adv.length - 1] * 100).toFixed(0)}% at ${size(sizes[sizes.length - 1])}`);
  console.log('');
  console.log('1-byte TCP_RR and nginx/wrk (32 connections)');
  console.log(`${'kernel'.padEnd(12)}${pad('RR trans/s', 12)}${pad('RR µs', 9)}${pad('http req/s', 12)}${pad('http µs', 9)}`);
  for (const k of PERSONALITIES) {
    const rr = await rrPoint(k);
    const http = await httpPoint(k);
    console.log(`${k.replace('kernel.', '').padEnd(12)}${pad(rr.transactionsPerS.toFixed(0), 12)}${pad((rr.latencyMeanNs / 1e3).toFixed(1), 9)}${pad(http.transactionsPerS.toFixed(0), 12)}${pad((http.latencyMeanNs / 1e3).toFixed(1), 9)}`);
  }
  console.log('');
  console.log('Conformance (scenarios/conformance/tcp); paper: µKontainer identical to Linux');
  const suite = runSuite(suiteDir('tcp'), await loadPersonalities([...PERSONALITIES]));
  console.log(formatSuite(suite));
  const same = suite.results.every((r) => r[0].pass === r[1].pass);
  console.log(`lkl ${same ? 'passes exactly' : 'does NOT pass exactly'} what host-linux passes`);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
