// The report read in Chromium: on evacuate-rack (30 s of migrations in a 300 s
// run) the charts are zoomed to the active window, have ticks in seconds and a unit,
// show every sample's value on hover, mark the migrations, and the events table
// speaks in human times and names. Skipped without /usr/bin/chromium.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { execFileSync } from 'node:child_process';

const CHROMIUM = '/usr/bin/chromium';
const have = existsSync(CHROMIUM);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'virtlab-report-'));
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
  rmSync(tmp, { recursive: true, force: true });
});

(have ? describe : describe.skip)('virtlab report in a browser', () => {
  // Mutation that must break this: activeWindow() returning the whole run (the
  // migrations then take the first 2% of the axis and the last tick reads 300).
  it('zooms the charts to the active window, with ticks, units, markers and hover values', async () => {
    const out = path.join(tmp, 'evacuate');
    // The compiled CLI, as a user runs it (a nonzero exit throws).
    const virtlab = (...args: string[]) => execFileSync(process.execPath, ['tools/cli/bin.js', ...args], { encoding: 'utf8' });
    virtlab('run', 'scenarios/evacuate-rack.scenario.yaml', '--out', out, '--quiet', '--set', 'duration=300s');
    virtlab('report', out);
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script|https?:\/\//);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    const page = await browser.newPage({ viewport: { width: 1250, height: 1000 } });
    await page.goto(`file://${path.join(out, 'report.html')}`);
    const chart = await page.evaluate(() => {
      const fig = [...document.querySelectorAll('figure.chart')].find((f) => f.querySelector('figcaption')?.textContent?.startsWith('migration.bytes'))!;
      const svg = fig.querySelector('svg')!;
      const line = fig.querySelector('polyline')!.getBoundingClientRect();
      const plot = svg.getBoundingClientRect();
      const texts = [...svg.querySelectorAll('text')].map((t) => t.textContent ?? '');
      const timeTicks = [...svg.querySelectorAll('text[text-anchor="middle"]')].map((t) => t.textContent ?? '').filter((t) => /^\d/.test(t));
      return {
        lineWidthShare: line.width / plot.width,
        texts,
        timeTicks,
        markers: svg.querySelectorAll('g.marker').length,
        hover: [...svg.querySelectorAll('circle.pt title')].map((t) => t.textContent ?? ''),
      };
    });
    // The line of bytes sent spans most of the plot, not 2% of it.
    expect(chart.lineWidthShare).toBeGreaterThan(0.5);
    expect(chart.texts).toContain('time (s)');
    expect(chart.texts).toContain('GiB');
    const ticks = chart.timeTicks.map(Number);
    expect(ticks.length).toBeGreaterThan(3);
    expect(Math.min(...ticks)).toBeGreaterThan(0);
    expect(Math.max(...ticks)).toBeLessThan(100);
    expect(chart.markers).toBeGreaterThan(0);
    expect(chart.hover.some((t) => /^migration\.bytes at 40 s: 85\.\d+ GiB$/.test(t))).toBe(true);
    const events = await page.evaluate(() => (document.querySelector('table.events') as HTMLElement).innerText);
    expect(events).toMatch(/10 s\s+migration-start\s+40 × migration start: app-0 … app-39/);
    expect(events).toMatch(/app-\d+ arrived after 29\.\d+ s/);
    expect(events).not.toMatch(/\d{9,}/);
  });
});
