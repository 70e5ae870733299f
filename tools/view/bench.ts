// Visualizer benchmark (`npm run bench:view`): frame times of the page in headless
// Chromium while it animates 1,000 hosts and 10,000 VMs, 200 of them migrating across
// the core so that tiles travel and the scene changes on every frame. Measured in this
// run, for 5 s at speed ×10 and 5 s at ×1000 (the worker then steps without pause),
// with the whole scene fitted to the canvas as the page shows it on load and the speed
// pinned; each migration is throttled to 100 Mbit/s so that all 200 stay in flight:
// the interval between animation frames (median, 99th percentile), how many of them
// drew, the main thread's JavaScript time per frame (scene update and PixiJS render
// submission), and the worker's time per tick. Headless Chromium rasterizes WebGL in
// software (SwiftShader) and reads every frame back for its software compositor, so
// the interval includes CPU time that a GPU would take off the page's hands.

import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { ensurePage, serveView } from './serve';
import type { ViewInspection } from './main';
import type { PaneInspection } from './scene';

const SCENARIO = `name: view-bench
description: 1,000 hosts and 10,000 VMs, 200 of them migrating, for measuring the visualizer's frame times.
tick: 1s
duration: 1h
preset: headless
hosts:
  - { profile: x86-64-server, racks: 25, perRack: 40 }
vms:
  - name: vm
    count: 10000
    vcpus: 2
    memory: 4GiB
    workload: { kind: synthetic, distribution: uniform, writesPerSecond: 1000, readsPerSecond: 1000, cpu: 0.5 }
plugins:
  placement.worst-fit: {}
  migration.precopy: { bandwidth: 100Mbit/s }
  migration.schedule: { migrations: [{ at: 2s, group: vm, count: 200, toRack: 1 }] }
`;

const BUDGET_MS = 1000 / 60;

function quantile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
}

// Strings, not functions, are evaluated in the page: the TypeScript loader would add helpers the page lacks.
const view = (expr: string) => `window.virtlabView.${expr}`;

async function measure(page: Page, speed: string, seconds: number): Promise<string> {
  await page.selectOption('#speed', speed);
  await page.waitForTimeout(500);
  const before = (await page.evaluate(view('panes()[0].workerCost'))) as PaneInspection['workerCost'];
  await page.evaluate(view('resetStats()'));
  await page.waitForTimeout(seconds * 1000);
  const s = (await page.evaluate(view('stats()'))) as ReturnType<ViewInspection['stats']>;
  const after = (await page.evaluate(view('panes()[0].workerCost'))) as typeof before;
  const travelling = (await page.evaluate(view('panes()[0].travels.length'))) as number;
  const drawn = s.rendered.reduce((a, b) => a + b, 0);
  const js = s.js.filter((_, i) => s.rendered[i]);
  const ticks = after.ticks - before.ticks;
  const perTick = ticks ? (after.stepMs - before.stepMs) / ticks : NaN;
  const build = after.frames > before.frames ? (after.buildMs - before.buildMs) / (after.frames - before.frames) : NaN;
  return (
    `speed ×${speed}: ${s.interval.length} frames in ${seconds} s (${(s.interval.length / seconds).toFixed(0)} fps), ${drawn} of them drawn, ${travelling} tiles travelling\n` +
    `  frame interval  median ${quantile(s.interval, 0.5).toFixed(1)} ms, p99 ${quantile(s.interval, 0.99).toFixed(1)} ms (budget ${BUDGET_MS.toFixed(1)} ms at 60 fps)\n` +
    `  main-thread JS  median ${quantile(js, 0.5).toFixed(2)} ms, p99 ${quantile(js, 0.99).toFixed(2)} ms per drawn frame\n` +
    `  worker          ${ticks} ticks, ${perTick.toFixed(1)} ms per tick, ${build.toFixed(2)} ms per frame built`
  );
}

(async () => {
  const cpu0 = process.cpuUsage();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'virtlab-view-bench-'));
  const file = path.join(dir, 'view-bench.scenario.yaml');
  writeFileSync(file, SCENARIO);
  await ensurePage();
  const { server, url } = await serveView({ target: file, port: 0 });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(url);
    await page.waitForFunction(() => /migrating: [1-9]/.test(document.querySelector('#hud')?.textContent ?? ''), undefined, { timeout: 180000 });
    // The speed stays as measured: no slowing down when the migrations start.
    await page.check('#pin');
    const software = (await page.evaluate(view('software'))) as boolean;
    const v = (await page.evaluate(view('view()'))) as ReturnType<ViewInspection['view']>;
    console.log(
      `visualizer, 1,000 hosts and 10,000 VMs, the whole scene fitted to a ${v.width}×${v.height} canvas (zoom ${v.scale.toFixed(2)}), ${software ? 'WebGL in software (SwiftShader)' : 'WebGL on a GPU'}`,
    );
    console.log(await measure(page, '10', 5));
    console.log(await measure(page, '1000', 5));
  } finally {
    await browser.close();
    server.close();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
