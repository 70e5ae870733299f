// The visualizer in a real headless Chromium: the page loads a scenario and animates,
// a migration becomes visible, clicking a VM shows its details, compare mode runs both
// sides, and a malformed scenario shows a clear error panel. Screenshots are kept in
// results/view-artifacts/.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import { chromium, type Browser, type Page } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import { serveView } from '../../../tools/view/serve';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join('results', 'view-artifacts');
const have = existsSync(CHROMIUM);
const describeBrowser = have ? describe : describe.skip;
if (!have) console.warn(`skipping the visualizer's browser tests: ${CHROMIUM} is missing (apt-get install -y chromium)`);

let browser: Browser;
const servers: Server[] = [];

beforeAll(async () => {
  if (!have) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  // Vite is ESM-only and cannot load inside jest: build through the CLI.
  const built = spawnSync(process.execPath, ['tools/cli/bin.js', 'view', '--build-only', 'scenarios/demo.scenario.yaml'], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`building the page failed: ${built.stderr}`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 180000);

afterAll(async () => {
  for (const s of servers) s.close();
  await browser?.close();
});

async function open(target: string, compare?: string[]): Promise<Page> {
  const { server, url } = await serveView({ target, port: 0, compare, skipBuild: true });
  servers.push(server);
  const page = await browser.newPage({ viewport: { width: 1300, height: 800 } });
  await page.goto(url);
  return page;
}

describeBrowser('the visualizer', () => {
  it('loads a scenario and animates it', async () => {
    const page = await open('scenarios/demo.scenario.yaml');
    await page.waitForFunction(() => document.querySelector('#hud')?.textContent?.includes('dc.vms.running'));
    const a = await page.screenshot({ path: path.join(ARTIFACTS, 'demo-1.png') });
    await page.waitForTimeout(1500);
    const b = await page.screenshot({ path: path.join(ARTIFACTS, 'demo-2.png') });
    expect(Buffer.compare(a, b)).not.toBe(0);
    expect(await page.textContent('#hud')).toMatch(/placement\.worst-fit/);
  });

  it('shows a migration', async () => {
    const page = await open('scenarios/evacuate-rack.scenario.yaml');
    await page.waitForFunction(() => document.querySelector('#log')?.textContent?.includes('migration of VM'), undefined, { timeout: 30000 });
    await page.waitForFunction(() => /migrating: \d+ VMs, rounds/.test(document.querySelector('#hud')?.textContent ?? ''), undefined, { timeout: 30000 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'migration.png') });
    expect(await page.textContent('#log')).toMatch(/migration of VM \d+ starts \(precopy\)/);
  });

  it('shows a VM’s details when it is clicked', async () => {
    const page = await open('scenarios/demo.scenario.yaml');
    // Let the VMs be placed, then pause so that the tiles stay put.
    await page.waitForFunction(() => /dc\.vms\.running: [1-9]/.test(document.querySelector('#hud')?.textContent ?? ''));
    await page.click('#play');
    await page.waitForTimeout(500);
    // The first tile of the first host (layout constants of tools/view/main.ts).
    await page.mouse.click(24 + 5, 60 + 18 + 5);
    await page.waitForFunction(() => document.querySelector('#details')?.textContent?.startsWith('VM'));
    expect(await page.textContent('#details')).toMatch(/^VM [a-z]+-\d+\nhost 0\n/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'details.png') });
  });

  it('runs both sides in compare mode', async () => {
    const page = await open('scenarios/demo.scenario.yaml', ['vms.0.workload.writesPerSecond=100000']);
    await page.waitForFunction(() => (document.querySelector('#hud')?.textContent?.match(/tick \d+/g) ?? []).length === 2);
    const hud = (await page.textContent('#hud'))!;
    expect(hud).toMatch(/A: as written/);
    expect(hud).toMatch(/B: vms\.0\.workload\.writesPerSecond=100000/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'compare.png') });
  });

  it('shows a clear error panel for a malformed scenario', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'virtlab-view-'));
    const file = path.join(dir, 'bad.scenario.yaml');
    writeFileSync(file, 'name: bad\nduration: 1s\nvms:\n  - count: two\n    memory: 1GiB\n');
    const page = await open(file);
    await page.waitForSelector('#error', { state: 'visible' });
    expect(await page.textContent('#error')).toMatch(/bad\.scenario\.yaml:4:\d+: vms\.0\.count: must be integer/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'error.png') });
  });
});
