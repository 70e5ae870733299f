// The visualizer in a real headless Chromium: the page loads a scenario and animates,
// a migration becomes visible, clicking a VM shows its details, compare mode runs both
// sides, and a malformed scenario shows a clear error panel. What the scene draws is
// checked in the screenshots' pixels, at places the page's inspection hook
// (window.virtlabView) and the layout module name: every host's NIC link, a migrating
// VM's tile on its network path, AdaMig's method switches marked at the VM, labels that
// do not collide, numbered colour scales, the timeline's ticks and markers, grouped
// transfers, live charts. The scene is fitted to the canvas, so world coordinates go
// through the page's transform (window.virtlabView.toPage) before pixels are read.
// Nothing is written into the repository: the page is built into a temporary folder,
// and the screenshots, kept for a human to look at, go to
// $TMPDIR/virtlab-view-artifacts-<user>/ or the folder VIRTLAB_VIEW_ARTIFACTS names.
// The page animates in real time, so waits are for states, never for durations, with
// a generous limit (VIRTLAB_VIEW_WAIT_MS, default 4 min) that only a hang reaches.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import { chromium, type Browser, type Page } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import { serveView } from '../../../tools/view/serve';
import { HOST_H, HOST_W, SceneLayout, Route, TILE } from '../../../tools/view/layout';
import { COLOR_BACKGROUND, COLOR_HOST_BORDER, COLOR_IDLE_LINK, COLOR_MARKER, COLOR_TRAVEL, heat } from '../../../tools/view/palette';
import { MARK_COLORS } from '../../../tools/view/charts';
import type { PaneInspection } from '../../../tools/view/scene';
import type { ViewInspection } from '../../../tools/view/main';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(process.env.VIRTLAB_VIEW_ARTIFACTS ?? path.join(os.tmpdir(), `virtlab-view-artifacts-${os.userInfo().username}`));
const WAIT = Number(process.env.VIRTLAB_VIEW_WAIT_MS ?? 240_000);
const TMP = mkdtempSync(path.join(os.tmpdir(), 'virtlab-view-'));
const BUILD = path.join(TMP, 'build');
const have = existsSync(CHROMIUM);
const describeBrowser = have ? describe : describe.skip;
if (!have) console.warn(`skipping the visualizer's browser tests: ${CHROMIUM} is missing (apt-get install -y chromium)`);

let browser: Browser;
const servers: Server[] = [];

beforeAll(async () => {
  if (!have) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  // Vite is ESM-only and cannot load inside jest: build through the CLI, into BUILD,
  // where serveView (in this process) finds it too.
  process.env.VIRTLAB_VIEW_BUILD_DIR = BUILD;
  const built = spawnSync(process.execPath, ['tools/cli/bin.js', 'view', '--build-only', 'scenarios/demo.scenario.yaml'], { encoding: 'utf8', env: { ...process.env } });
  if (built.status !== 0) throw new Error(`building the page failed: ${built.stderr}`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  for (const s of servers) s.close();
  await browser?.close();
  delete process.env.VIRTLAB_VIEW_BUILD_DIR;
  rmSync(TMP, { recursive: true, force: true });
});

async function open(target: string, compare?: string[]): Promise<Page> {
  const { server, url } = await serveView({ target, port: 0, compare });
  servers.push(server);
  const page = await browser.newPage({ viewport: { width: 1300, height: 800 } });
  page.setDefaultTimeout(WAIT);
  await page.goto(url);
  return page;
}

/** Pauses the animation and waits until nothing on the page moves any more. */
async function pause(page: Page): Promise<void> {
  await page.click('#play');
  await page.waitForFunction('window.virtlabView.panes().every((p) => p.settled)');
}

/**
 * Pauses the page at a moment when `holds` is true of its panes. The page runs on while
 * the test reacts, so a moment seen before the pause may be gone after it (on a busy
 * machine, a whole transfer can end in between): then play on and try again.
 */
async function pauseWhen(page: Page, holds: (panes: PaneInspection[]) => boolean, inPage: string): Promise<PaneInspection[]> {
  for (let attempt = 0; attempt < 20; attempt++) {
    await page.waitForFunction(inPage);
    await pause(page);
    const panes = await inspect(page);
    if (holds(panes)) return panes;
    await page.click('#play');
  }
  throw new Error(`the page never paused where ${inPage} holds`);
}

// Strings, not functions, are evaluated in the page: the TypeScript transform would add helpers the page lacks.
const inspect = async (page: Page) => (await page.evaluate('window.virtlabView.panes()')) as PaneInspection[];
const ask = async <K extends keyof ViewInspection>(page: Page, what: K, ...args: unknown[]) =>
  (await page.evaluate(`window.virtlabView.${what}(${args.map((a) => JSON.stringify(a)).join(', ')})`)) as ViewInspection[K] extends (...a: never[]) => infer R ? R : never;
/** Points of a pane's world, where they are on the page. */
async function onPage(page: Page, points: Array<[number, number]>, pane = 0): Promise<Array<[number, number]>> {
  return (await page.evaluate(`${JSON.stringify(points)}.map(([x, y]) => { const p = window.virtlabView.toPage(${pane}, x, y); return [p.x, p.y]; })`)) as Array<[number, number]>;
}

/** The colours of the screenshot at the given points, decoded in the page. */
async function pixels(page: Page, png: Buffer, points: Array<[number, number]>): Promise<number[]> {
  return (await page.evaluate(`(async () => {
    const img = await createImageBitmap(await (await fetch('data:image/png;base64,${png.toString('base64')}')).blob());
    const c = new OffscreenCanvas(img.width, img.height);
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    return ${JSON.stringify(points.map(([x, y]) => [Math.floor(x), Math.floor(y)]))}.map(([x, y]) => { const d = g.getImageData(x, y, 1, 1).data; return (d[0] << 16) | (d[1] << 8) | d[2]; });
  })()`)) as number[];
}

/**
 * Whether the list an opened group shows (a row per member, ROW = TILE + 4 apart, right of
 * its tiles) lies inside the stage with room for its text, below the pane's title.
 */
async function listFits(page: Page, g: { x: number; y: number; n: number }): Promise<boolean> {
  const [[x0, y0], [, y1]] = await onPage(page, [
    [g.x + 2 * TILE + 10, g.y],
    [g.x + 2 * TILE + 10, g.y + (g.n - 1) * (TILE + 4) + TILE],
  ]);
  const stage = (await page.evaluate(`(() => { const r = document.querySelector('#stage canvas').getBoundingClientRect(); return { left: r.left, top: r.top, right: r.right, bottom: r.bottom }; })()`)) as { left: number; top: number; right: number; bottom: number };
  return x0 > stage.left && x0 + 240 < stage.right && y0 - 40 > stage.top && y1 + 10 < stage.bottom;
}

/** Whether two 0xRRGGBB colours differ by at most `tolerance` in every channel. */
function near(a: number, b: number, tolerance = 20): boolean {
  return [16, 8, 0].every((s) => Math.abs(((a >> s) & 255) - ((b >> s) & 255)) <= tolerance);
}
const hex = (c: number) => `#${c.toString(16).padStart(6, '0')}`;

const geometry = (p: PaneInspection) => new SceneLayout(p.layout.racks, Int32Array.from(p.layout.hostRack), Int32Array.from(p.layout.hostSlot));

/** No two labels share a pixel. */
function expectNoOverlap(labels: Array<{ text: string; x: number; y: number; w: number; h: number }>): void {
  for (let i = 0; i < labels.length; i++) {
    for (let j = i + 1; j < labels.length; j++) {
      const a = labels[i];
      const b = labels[j];
      const meet = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
      expect({ a: a.text, b: b.text, meet }).toEqual({ a: a.text, b: b.text, meet: false });
    }
  }
}

describeBrowser('the visualizer', () => {
  it('loads a scenario and animates it', async () => {
    const page = await open('scenarios/demo.scenario.yaml');
    await page.waitForFunction(() => document.querySelector('#hud')?.textContent?.includes('dc.vms.running'));
    const a = await page.screenshot({ path: path.join(ARTIFACTS, 'demo-1.png') });
    // Some ticks later, however long they take on this machine.
    const tick = (hud: string) => Number(/tick (\d+)/.exec(hud)?.[1] ?? NaN);
    const t0 = tick((await page.textContent('#hud')) ?? '');
    expect(t0).toBeGreaterThanOrEqual(0);
    await page.waitForFunction((t) => Number(/tick (\d+)/.exec(document.querySelector('#hud')?.textContent ?? '')?.[1] ?? -1) >= t + 5, t0);
    const b = await page.screenshot({ path: path.join(ARTIFACTS, 'demo-2.png') });
    expect(Buffer.compare(a, b)).not.toBe(0);
    expect(await page.textContent('#hud')).toMatch(/placement\.worst-fit/);
    // The scene is presented as one opaque 2D canvas, the WebGL base's pixels copied into
    // it: a software compositor gets one layer with nothing blended over it.
    // Mutation that must break it: the WebGL canvas appended to the stage again, or the
    // presented canvas made transparent (its context without `alpha: false`).
    expect(await page.evaluate(`[...document.querySelectorAll('#stage canvas')].map((c) => c.getContext('2d')?.getContextAttributes().alpha ?? 'not 2D')`)).toEqual([false]);
  });

  it('shows a migration', async () => {
    const page = await open('scenarios/evacuate-rack.scenario.yaml');
    await page.waitForFunction(() => document.querySelector('#log')?.textContent?.includes('migration of VM'));
    await page.waitForFunction(() => /migrating: \d+ VMs, rounds/.test(document.querySelector('#hud')?.textContent ?? ''));
    await page.screenshot({ path: path.join(ARTIFACTS, 'migration.png') });
    expect(await page.textContent('#log')).toMatch(/migration of VM app-\d+ from rack0\/host[0-3] to rack1\/host[0-3] starts \(precopy\)/);
  });

  it('shows a VM’s details when it is clicked', async () => {
    const page = await open('scenarios/demo.scenario.yaml');
    // Let the VMs be placed, then pause so that the tiles stay put.
    await page.waitForFunction(() => /dc\.vms\.running: [1-9]/.test(document.querySelector('#hud')?.textContent ?? ''));
    await pause(page);
    // The first tile of the first host.
    const g = geometry((await inspect(page))[0]);
    const [[x, y]] = await onPage(page, [[g.tileX(0, 0) + TILE / 2, g.tileY(0, 0) + TILE / 2]]);
    await page.mouse.click(x, y);
    await page.waitForFunction(() => document.querySelector('#details')?.textContent?.startsWith('VM'));
    // Named as the scenario names them, with its workload and history.
    const text = (await page.textContent('#details'))!;
    expect(text).toMatch(/^VM [a-z]+-\d+\non rack0\/host0\n/);
    expect(text).toMatch(/\nworkload: synthetic/);
    expect(text).toMatch(/\nmigrations: none so far/);
    expect(await page.isVisible('#vm-chart')).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'details.png') });
    // Panels wrap their text instead of clipping it.
    const clipped = await page.evaluate(`['#details', '#hud', 'aside'].filter((s) => { const e = document.querySelector(s); return e.scrollWidth > e.clientWidth + 1; })`);
    expect(clipped).toEqual([]);
  });

  // Mutation that must break it: the base's pixels not copied into the presented canvas
  // (main.ts without `overlay.setBase(app.canvas)`): the links are then background.
  it('draws every host’s link to its rack switch', async () => {
    const page = await open('scenarios/demo.scenario.yaml');
    await page.waitForFunction(() => /dc\.vms\.running: [1-9]/.test(document.querySelector('#hud')?.textContent ?? ''));
    const pane = (await inspect(page))[0];
    const g = geometry(pane);
    const png = await page.screenshot({ path: path.join(ARTIFACTS, 'nic-links.png') });
    const hosts = pane.layout.hostRack.map((_, h) => h);
    const r = { x: 0, y: 0, w: 0, h: 0 };
    // The middle of each NIC link, and a point beside it that must stay background.
    const onLink = hosts.map((h) => (g.nicRect(h, 0, r), [r.x + r.w / 2, g.linkY(h)] as [number, number]));
    const beside = hosts.map((h) => [g.rackX(g.hostRack[h]) + 14, g.linkY(h) - 9] as [number, number]);
    const got = await pixels(page, png, await onPage(page, [...onLink, ...beside]));
    hosts.forEach((h, i) => {
      // No traffic in the demo: every link is drawn idle.
      expect({ host: h, link: hex(got[i]) }).toEqual({ host: h, link: hex(COLOR_IDLE_LINK) });
      expect(near(got[hosts.length + i], COLOR_BACKGROUND)).toBe(true);
    });
  });

  it('colours the NIC links that carry a migration by their utilization', async () => {
    const page = await open('scenarios/evacuate-rack.scenario.yaml');
    const pane = (await pauseWhen(page, (panes) => panes[0].travels.some((t) => t.trip > 0.1), '(window.virtlabView?.panes()[0].travels ?? []).some((t) => t.trip > 0.1)'))[0];
    const g = geometry(pane);
    const sources = [...new Set(pane.travels.map((t) => t.src))];
    const idle = pane.layout.hostRack.map((_, h) => h).filter((h) => !pane.travels.some((t) => t.src === h || t.dst === h));
    const png = await page.screenshot({ path: path.join(ARTIFACTS, 'nic-links-busy.png') });
    const r = { x: 0, y: 0, w: 0, h: 0 };
    // Sampled at the link's end by the host, clear of the path drawn through the rack switch.
    const at = (h: number) => (g.nicRect(h, 0, r), [r.x + r.w - 2, g.linkY(h)] as [number, number]);
    const got = await pixels(page, png, await onPage(page, [...sources.map(at), ...idle.map(at)]));
    sources.forEach((h, i) => expect({ host: h, busy: !near(got[i], COLOR_IDLE_LINK, 30) && !near(got[i], COLOR_BACKGROUND, 30) }).toEqual({ host: h, busy: true }));
    idle.forEach((h, i) => expect({ host: h, link: hex(got[sources.length + i]) }).toEqual({ host: h, link: hex(COLOR_IDLE_LINK) }));
  });

  it('moves a migrating VM’s tile along its network path, with its round and progress', async () => {
    const page = await open('scenarios/evacuate-rack.scenario.yaml');
    // A migration part of the way through a transfer; pause so the tile stays there.
    // Its centre must be clear of what is drawn over tiles: a group's progress bar
    // (under the group's first tile) and an opened group's rows. Where the pause lands
    // depends on the machine's speed, and a nearby group's bar can cover the centre.
    const clear = (p: PaneInspection, x: { x: number; y: number }) =>
      p.groups.every((gr) => (gr.open ? x.x < gr.x + TILE + 5 : x.x < gr.x - 3 || x.x > gr.x + TILE + 3 || x.y < gr.y + TILE || x.y > gr.y + TILE + 5));
    const midway = (p: PaneInspection) => (x: { trip: number; x: number; y: number }) => x.trip > 0.1 && x.trip < 0.9 && clear(p, x);
    const pane = (
      await pauseWhen(page, (panes) => panes[0].travels.some(midway(panes[0])), '(window.virtlabView?.panes()[0].travels ?? []).some((t) => t.trip > 0.15 && t.trip < 0.85)')
    )[0];
    const g = geometry(pane);
    const t = pane.travels.find(midway(pane))!;
    expect(t).toBeDefined();
    const route = new Route(Float32Array.from(t.points));
    // host → its rack switch → the core → the destination's rack switch → host, in that order.
    const srcRack = g.hostRack[t.src];
    const dstRack = g.hostRack[t.dst];
    expect(srcRack).not.toBe(dstRack);
    const xs = t.points.filter((_, i) => i % 2 === 0);
    const ys = t.points.filter((_, i) => i % 2 === 1);
    const onSrcSwitch = xs.indexOf(g.torX(srcRack));
    const onCore = ys.indexOf(g.coreY);
    const onDstSwitch = xs.lastIndexOf(g.torX(dstRack));
    expect(onSrcSwitch).toBeGreaterThan(0);
    expect(onCore).toBeGreaterThan(onSrcSwitch);
    expect(onDstSwitch).toBeGreaterThan(onCore);
    expect(xs[0]).toBeGreaterThan(g.hostX(t.src));
    expect(xs[xs.length - 1]).toBeGreaterThan(g.hostX(t.dst));
    // The tile is on that path, away from both ends.
    expect(route.distanceTo(t.x, t.y)).toBeLessThan(0.5);
    expect(Math.hypot(t.x - xs[0], t.y - ys[0])).toBeGreaterThan(TILE);
    expect(Math.hypot(t.x - xs[xs.length - 1], t.y - ys[ys.length - 1])).toBeGreaterThan(TILE);
    // Labelled with its round and progress, or with its group's size and ranges.
    expect(t.label).toMatch(t.group > 1 ? new RegExp(`^×${t.group} r\\d+(–\\d+)? \\d+(–\\d+)?%$`) : /^r\d+ \d+%$/);
    if (t.group === 1) expect(t.label.startsWith(`r${t.round} `)).toBe(true);
    // And it is drawn there.
    const png = await page.screenshot({ path: path.join(ARTIFACTS, 'migration-path.png') });
    const [c] = await pixels(page, png, await onPage(page, [[t.x, t.y]]));
    expect(hex(c)).toBe(hex(COLOR_TRAVEL));
    // Pre-copy alone switches nothing: no markers.
    expect(pane.markers).toEqual([]);
  });

  it('marks AdaMig’s method switches at the VM in the scene', async () => {
    const page = await open('scenarios/repro/adamig.scenario.yaml');
    await page.selectOption('#speed', '100');
    await page.waitForFunction(() => ((window as unknown as { virtlabView?: { panes(): Array<{ markers: unknown[] }> } }).virtlabView?.panes()[0].markers.length ?? 0) > 0);
    await pause(page);
    const pane = (await inspect(page))[0];
    const m = pane.markers[0];
    expect(m.text).toMatch(/^→ (compress with \d+ threads|post-copy)$/);
    expect(m.reason).toMatch(/dirty rate \d+% of the bandwidth/);
    // The ring surrounds the VM as drawn: its travelling tile, or its own.
    const t = pane.travels.find((x) => x.vm === m.vm);
    const tile = (await page.evaluate(`window.virtlabView.tile(0, ${m.vm})`)) as { x: number; y: number };
    const [cx, cy] = t ? [t.x, t.y] : [tile.x + TILE / 2, tile.y + TILE / 2];
    expect(m.ring.x).toBeLessThan(cx - TILE / 2);
    expect(m.ring.x + m.ring.w).toBeGreaterThan(cx + TILE / 2);
    expect(m.ring.y).toBeLessThan(cy - TILE / 2);
    expect(m.ring.y + m.ring.h).toBeGreaterThan(cy + TILE / 2);
    const png = await page.screenshot({ path: path.join(ARTIFACTS, 'method-switch.png') });
    const [left, top] = await pixels(
      page,
      png,
      await onPage(page, [
        [m.ring.x + 1, m.ring.y + m.ring.h / 2],
        [m.ring.x + m.ring.w / 2, m.ring.y + 1],
      ]),
    );
    expect({ left: hex(left), near: near(left, COLOR_MARKER, 24) }).toEqual({ left: hex(left), near: true });
    expect({ top: hex(top), near: near(top, COLOR_MARKER, 24) }).toEqual({ top: hex(top), near: true });
    expect(await page.textContent('#log')).toMatch(/VM vm-0: (compress with \d+ threads|postcopy) — /);
    // The decision's text is shown, clear of the title and the rack labels (no label meets another).
    const labels = await ask(page, 'labels');
    expect(labels.some((l) => l.kind === 'decision' && l.text === m.text)).toBe(true);
    expect(labels.some((l) => l.kind === 'title')).toBe(true);
    expect(labels.some((l) => l.kind === 'rack')).toBe(true);
    expectNoOverlap(labels);
    // A method switch is on the timeline.
    await page.waitForFunction('(window.virtlabView.timeline()?.marks ?? []).some((m) => m.kind === "switch")');
  });

  it('runs both sides in compare mode, with a chart of the difference per metric', async () => {
    const page = await open('scenarios/demo.scenario.yaml', ['vms.0.workload.writesPerSecond=100000']);
    await page.waitForFunction(() => (document.querySelector('#hud')?.textContent?.match(/tick \d+/g) ?? []).length === 2);
    const hud = (await page.textContent('#hud'))!;
    expect(hud).toMatch(/A: as written/);
    expect(hud).toMatch(/B: vms\.0\.workload\.writesPerSecond=100000/);
    // B writes a hundred times as fast: its dirty pages differ from A's, and the delta chart shows it.
    await page.waitForFunction('window.virtlabView.charts().some((c) => c.delta && c.title.includes("workload.dirty-pages") && c.points > 2 && c.max > 0)');
    const charts = await ask(page, 'charts');
    expect(charts.filter((c) => c.delta).length).toBe(charts.filter((c) => !c.delta).length);
    // Both panes fit side by side, and nothing in the side panel is clipped.
    const v = await ask(page, 'view');
    const panes = await inspect(page);
    const right = panes[1].offsetX + geometry(panes[1]).width;
    expect(v.x + right * v.scale).toBeLessThanOrEqual(v.width + 1);
    expectNoOverlap(await ask(page, 'labels'));
    expect(await page.evaluate(`['#details', '#hud', 'aside'].filter((s) => { const e = document.querySelector(s); return e.scrollWidth > e.clientWidth + 1; })`)).toEqual([]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'compare.png') });
  });

  it('replays a results folder by loading its config.json as the scenario', async () => {
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'virtlab-view-')), 'demo');
    const run = spawnSync(process.execPath, ['tools/cli/bin.js', 'run', 'scenarios/demo.scenario.yaml', '--quiet', '--set', 'duration=12s', '--out', out], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    const page = await open(out);
    await page.waitForFunction(() => document.querySelector('#hud')?.textContent?.includes('dc.vms.running'));
    expect(await page.textContent('#hud')).toMatch(/placement\.worst-fit/);
    expect(await page.isVisible('#error')).toBe(false);
  });

  it('prints only its URL when the page is built', async () => {
    // The page was built in beforeAll: this start finds it in the cache and says one line.
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['tools/cli/bin.js', 'view', 'scenarios/demo.scenario.yaml'], { env: { ...process.env } });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve();
      });
      child.on('exit', () => reject(new Error(`view exited: ${err}`)));
    });
    child.kill();
    expect(out).toMatch(/^virtlab view: http:\/\/127\.0\.0\.1:\d+\/ {2}\(Ctrl-C to stop\)\n$/);
    expect(err).toBe('');
  });

  it('fits the scene to the view on load and on resize, and names hosts, racks, switches and links without collisions', async () => {
    const page = await open('scenarios/evacuate-rack.scenario.yaml');
    await page.waitForFunction('(window.virtlabView?.labels() ?? []).some((l) => l.kind === "host")');
    const check = async (name: string) => {
      const v = await ask(page, 'view');
      const pane = (await inspect(page))[0];
      const g = geometry(pane);
      // The scene fills the canvas in one direction and stays inside it in both.
      const w = g.width * v.scale;
      const h = g.bottom * v.scale;
      expect(v.fitted).toBe(true);
      expect(Math.max(w / v.width, h / v.height)).toBeGreaterThan(0.85);
      expect(v.x).toBeGreaterThanOrEqual(0);
      expect(v.x + w).toBeLessThanOrEqual(v.width + 1);
      expect(v.y + h).toBeLessThanOrEqual(v.height + 1);
      const labels = await ask(page, 'labels');
      const kinds = new Set(labels.map((l) => l.kind));
      for (const k of ['title', 'switch', 'rack', 'link', 'host']) expect({ name, kind: k, shown: kinds.has(k) }).toEqual({ name, kind: k, shown: true });
      expect(labels.filter((l) => l.kind === 'host').every((l) => /^rack\d+\/host\d+( NIC \d+%)?$/.test(l.text))).toBe(true);
      expect(labels.some((l) => l.kind === 'switch' && l.text === 'core switch')).toBe(true);
      expectNoOverlap(labels);
      // The last host's right border is on the canvas, where the layout puts it.
      const png = await page.screenshot({ path: path.join(ARTIFACTS, `fit-${name}.png`) });
      const last = g.hosts - 1;
      const [[bx, by]] = await onPage(page, [[g.hostX(last) + 120 - 0.5, g.hostY(last) + 40]]);
      // Text is drawn in each host label's box: some of its pixels are dark.
      const host = labels.find((l) => l.kind === 'host')!;
      const grid: Array<[number, number]> = [];
      for (let x = host.x + 1; x < host.x + host.w - 1; x += 2) for (let y = host.y + 2; y < host.y + host.h - 1; y += 2) grid.push([x, y]);
      const [border, ...text] = await pixels(page, png, [[bx, by], ...grid]);
      expect(near(border, COLOR_HOST_BORDER, 40)).toBe(true);
      expect(text.some((c) => !near(c, COLOR_BACKGROUND, 80))).toBe(true);
      return v;
    };
    const before = await check('1300x800');
    await page.setViewportSize({ width: 900, height: 600 });
    await page.waitForFunction((w) => (window as unknown as { virtlabView: ViewInspection }).virtlabView.view().width < w, before.width);
    await page.waitForFunction('(window.virtlabView?.labels() ?? []).some((l) => l.kind === "host")');
    const after = await check('900x600');
    expect(after.scale).toBeLessThan(before.scale);
  });

  it('numbers its colour scales, with units, for every colour metric', async () => {
    const page = await open('scenarios/evacuate-rack.scenario.yaml');
    await page.waitForFunction('window.virtlabView?.scales().length === 3');
    const png = await page.screenshot({ path: path.join(ARTIFACTS, 'scales.png') });
    const scales = await ask(page, 'scales');
    for (const s of scales) {
      expect(s.label).toMatch(/, %/);
      expect(s.ticks.map((t) => t.label)).toEqual(['0', '25', '50', '75', '100']);
    }
    // The gradient runs from the heat scale's bottom to its top.
    const ends = scales.flatMap((s) => [[s.left + s.x0 + 1, s.top + s.y], [s.left + s.x1 - 2, s.top + s.y]] as Array<[number, number]>);
    const got = await pixels(page, png, ends);
    got.forEach((c, i) => expect({ i, near: near(c, heat(i % 2 ? 1 : 0), 24) }).toEqual({ i, near: true }));
    for (const [value, unit] of [['dirty', /^VM colour: dirty pages.*, pages$/], ['wss', /% of its memory$/], ['wss-error', /% of the truth$/]] as const) {
      await page.selectOption('#metric', value);
      await page.waitForFunction((u) => new RegExp(u).test((window as unknown as { virtlabView: ViewInspection }).virtlabView.scales()[0].label), unit.source);
    }
    // Dirty pages are numbered up to the most any VM had.
    await page.selectOption('#metric', 'dirty');
    await page.waitForFunction('Number(window.virtlabView.scales()[0].ticks[4].label.replace(/,/g, "")) > 0');
  });

  it('has a timeline with labelled ticks and markers to jump to, live charts, and slows down when a migration starts', async () => {
    const page = await open('scenarios/evacuate-rack.scenario.yaml');
    await page.waitForFunction('(window.virtlabView?.timeline()?.marks ?? []).some((m) => m.kind === "migration")');
    await page.waitForFunction('window.virtlabView.speed().slowed > 0');
    expect((await ask(page, 'speed')).reason).toMatch(/^a migration starts: app-\d+: rack0\/host\d → rack1\/host\d$/);
    await page.waitForFunction('window.virtlabView.charts().some((c) => c.points > 2)');
    await pause(page);
    const tl = (await ask(page, 'timeline'))!;
    expect(tl.ticks.length).toBeGreaterThanOrEqual(3);
    expect(tl.ticks[0].label).toBe('0 s');
    expect(tl.ticks.every((t) => /^\d+(:\d\d)+$|^\d+(\.\d)? s$/.test(t.label))).toBe(true);
    const mark = tl.marks.find((m) => m.kind === 'migration')!;
    const charts = await ask(page, 'charts');
    const chart = charts.find((c) => c.points > 2)!;
    const png = await page.screenshot({ path: path.join(ARTIFACTS, 'timeline.png') });
    // The marker is 4 px wide and the cursor 2 px: where the pause left the cursor over
    // the marker, part of the marker still shows, so any of its columns may carry it.
    const [cursorPx, nowPx, ...markPx] = await pixels(page, png, [
      [tl.left + tl.cursorX, tl.top + 20],
      [chart.left + chart.nowX, chart.top + 30],
      ...[-2, -1, 0, 1].map((dx) => [tl.left + mark.x + dx, tl.top + mark.y] as [number, number]),
    ]);
    expect(markPx.map(hex)).toContain(MARK_COLORS.migration);
    expect(near(cursorPx, 0x212121, 30)).toBe(true);
    expect(near(nowPx, 0xd84315, 40)).toBe(true);
    // A click on the marker jumps to just before it.
    const hudTime = async () => Number(/^(\d+(?:\.\d)?) s of /m.exec((await page.textContent('#hud')) ?? '')?.[1] ?? NaN);
    await page.mouse.click(tl.left + mark.x, tl.top + mark.y);
    await page.waitForFunction((t) => {
      const hud = document.querySelector('#hud')?.textContent ?? '';
      return new RegExp(`\\n${Math.floor(t / 1e9)}(\\.\\d)? s of `).test(hud) || new RegExp(`\\n${Math.floor(t / 1e9) - 1}(\\.\\d)? s of `).test(hud);
    }, mark.timeNs);
    expect(await hudTime()).toBeLessThanOrEqual(Math.ceil(mark.timeNs / 1e9));
    // Pinned, the speed stays as set.
    await page.check('#pin');
    const sp = await ask(page, 'speed');
    expect(sp.effective).toBe(sp.set);
  });

  it('groups transfers at one place ("×n") and lists them when the pointer is over the group', async () => {
    const page = await open('scenarios/evacuate-rack.scenario.yaml');
    await page.check('#pin');
    // An opened group lists a row per member to the right of its tiles, and a label that
    // would leave the stage is left out (it is still in the side panel): the group must
    // be paused where its list has room, which depends on when the pause lands (a loaded
    // machine pauses later). Otherwise play on and pause again.
    type Group = PaneInspection['groups'][number];
    let group: Group | undefined;
    let panes: PaneInspection[] = [];
    for (let attempt = 0; attempt < 20 && !group; attempt++) {
      if (attempt) await page.click('#play');
      panes = await pauseWhen(page, (p) => p[0].groups.some((g) => g.n > 2), '(window.virtlabView?.panes()[0].groups ?? []).some((g) => g.n > 2)');
      for (const g of panes[0].groups.filter((c) => c.n > 2).sort((a, b) => b.n - a.n)) {
        if (await listFits(page, g)) {
          group = g;
          break;
        }
      }
    }
    if (!group) throw new Error('no group of more than two transfers was ever paused with room for its list');
    expect(group.label).toMatch(new RegExp(`^×${group.n} r\\d+`));
    // One label per group, never one per transfer: groups elsewhere may share the text
    // ("×3 r1" at two tiles), so the labels with it are at most the groups with it. (A
    // group's label may be left out where the paused frame leaves it no free place, so
    // only some transfer label is required.)
    const labels = await ask(page, 'labels');
    const same = panes[0].groups.filter((g) => g.label === group!.label).length;
    const shown = labels.filter((l) => l.kind === 'transfer' && l.text === group!.label).length;
    expect(shown).toBeLessThanOrEqual(same);
    expect(labels.filter((l) => l.kind === 'transfer').length).toBeGreaterThan(0);
    const [[x, y]] = await onPage(page, [[group.x + TILE / 2, group.y + TILE / 2]]);
    await page.mouse.move(x, y);
    await page.waitForFunction('window.virtlabView.panes()[0].groups.some((g) => g.open)');
    await page.waitForFunction('window.virtlabView.labels().some((l) => l.kind === "member")');
    const opened = await ask(page, "labels");
    const members = opened.filter((l) => l.kind === 'member');
    // Every member is listed: the group was chosen where its list has room. Mutation that
    // must break it: the open group's label anchored at its tile's middle again
    // (scene.ts), where it hid the first member's row (5 of 6 listed).
    expect(members.length).toBe(group.n);
    expect(members.every((l) => /^app-\d+ (r\d+|stop-and-copy|post-copy) \d+%$/.test(l.text))).toBe(true);
    expectNoOverlap(opened);
    await page.screenshot({ path: path.join(ARTIFACTS, 'group-open.png') });
    await page.mouse.move(2, 2);
    await page.waitForFunction('!window.virtlabView.panes()[0].groups.some((g) => g.open)');
  });

  // Mutation that must break it: the worker's `sampled` always true (gauges are sent
  // before the first sampling tick, and the HUD shows dc.vms.running: 0).
  it('shows gauges as not yet sampled (—) before the scenario’s first sampling tick', async () => {
    const page = await open('scenarios/demo.scenario.yaml');
    await page.waitForFunction('window.virtlabView?.timeline() !== undefined');
    await pause(page);
    // Back to the start (below the markers' rows): the demo samples every second.
    const tl = (await ask(page, 'timeline'))!;
    await page.mouse.click(tl.left + tl.x0, tl.top + 56);
    await page.waitForFunction(() => /\n0 s of [^\n]*, tick 0\n/.test(document.querySelector('#hud')?.textContent ?? ''));
    await page.waitForFunction(() => /^dc\.vms\.running: /m.test(document.querySelector('#hud')?.textContent ?? ''));
    const before = (await page.textContent('#hud'))!;
    expect(before).toMatch(/^dc\.vms\.running: —$/m);
    expect(before).toMatch(/^dc\.hosts\.cpu-load\.mean: —$/m);
    expect(before).toMatch(/^— not yet sampled \(first sample at 1 s\)$/m);
    // After the first sample, numbers.
    await page.mouse.click(tl.left + tl.x0 + ((tl.x1 - tl.x0) * 5) / 60, tl.top + 56);
    await page.waitForFunction(() => /\n[1-9](\.\d)? s of [^\n]*, tick [1-9]\d*\n/.test(document.querySelector('#hud')?.textContent ?? ''));
    await page.waitForFunction(() => /^dc\.vms\.running: \d+$/m.test(document.querySelector('#hud')?.textContent ?? ''));
    const after = (await page.textContent('#hud'))!;
    expect(after).toMatch(/^dc\.vms\.running: 20$/m);
    expect(after).not.toMatch(/not yet sampled/);
  });

  // Mutations that must break it: the worker never starting its run ahead (`scout`
  // undefined: the markers are never complete at this speed); activeWindow returning the
  // whole run (the zoomed markers stay in the first 2% of the axis).
  it('shows every marker of the run from the start, and zooms the timeline to where the events are and back', async () => {
    const page = await open('scenarios/evacuate-rack.scenario.yaml');
    // At ×0.1 the run on screen would take hours to reach its end: markers there come from the run ahead.
    await page.selectOption('#speed', '0.1');
    await page.waitForFunction('window.virtlabView?.timeline()?.complete === true');
    await pause(page);
    const full = (await ask(page, 'timeline'))!;
    const pane = (await inspect(page))[0];
    const durationNs = full.toNs;
    expect(full.fromNs).toBe(0);
    expect(full.note).toBe('');
    const events = full.marks.filter((m) => m.kind !== 'expect-pass' && m.kind !== 'expect-fail');
    expect(full.marks.filter((m) => m.kind === 'expect-pass' || m.kind === 'expect-fail').every((m) => m.timeNs === durationNs)).toBe(true);
    expect(full.marks.some((m) => m.kind === 'expect-pass')).toBe(true);
    expect(events.some((m) => m.kind === 'migration-end')).toBe(true);
    // Known before the run on screen reaches them.
    const now = pane.tick;
    const last = Math.max(...events.map((m) => m.timeNs));
    expect(now * 1e8).toBeLessThan(last);
    // The events fill a sliver of the whole run's axis…
    const spread = (marks: typeof events, tl: typeof full) => (Math.max(...marks.map((m) => m.x)) - Math.min(...marks.map((m) => m.x))) / (tl.x1 - tl.x0);
    expect(spread(events, full)).toBeLessThan(0.2);
    // …and most of it when zoomed to them.
    await page.click('#zoom');
    await page.waitForFunction('window.virtlabView.timeline().zoomed === true');
    const zoomed = (await ask(page, 'timeline'))!;
    expect(zoomed.fromNs).toBeGreaterThanOrEqual(0);
    expect(zoomed.toNs - zoomed.fromNs).toBeLessThan(durationNs / 4);
    const inWindow = zoomed.marks.filter((m) => m.kind !== 'expect-pass' && m.kind !== 'expect-fail');
    expect(inWindow.length).toBe(events.length);
    expect(spread(inWindow, zoomed)).toBeGreaterThan(0.7);
    expect(zoomed.ticks.length).toBeGreaterThanOrEqual(3);
    expect(await page.textContent('#zoom')).toBe('whole run');
    // Drawn where the page says: the right-most marker's colour is on the canvas.
    const right = [...inWindow].sort((a, b) => b.x - a.x)[0];
    const png = await page.screenshot({ path: path.join(ARTIFACTS, 'timeline-zoomed.png') });
    const px = await pixels(page, png, [-2, -1, 0, 1].map((dx) => [zoomed.left + right.x + dx, zoomed.top + right.y] as [number, number]));
    expect(px.map(hex)).toContain(MARK_COLORS[right.kind]);
    // A click elsewhere on the zoomed axis jumps to that time in the window.
    const mid = (zoomed.x0 + zoomed.x1) / 2;
    await page.mouse.click(zoomed.left + mid, zoomed.top + 56);
    const target = (zoomed.fromNs + zoomed.toNs) / 2;
    await page.waitForFunction((t) => Math.abs((window as unknown as { virtlabView: ViewInspection }).virtlabView.panes()[0].tick * 1e8 - t) <= 2e9, target);
    // And back to the whole run.
    await page.click('#zoom');
    await page.waitForFunction('window.virtlabView.timeline().zoomed === false');
    const back = (await ask(page, 'timeline'))!;
    expect([back.fromNs, back.toNs]).toEqual([0, durationNs]);
  });

  // Mutation that must break it: LabelLayer.place ignoring `avoid` (transfer labels
  // are then placed over the host boxes beside the links).
  it('keeps transfer labels off the hosts’ and the travelling tiles', async () => {
    const page = await open('scenarios/evacuate-rack.scenario.yaml');
    await page.check('#pin');
    const panes = await pauseWhen(page, (p) => p[0].groups.length >= 3, '(window.virtlabView?.panes()[0].groups ?? []).length >= 3');
    const g = geometry(panes[0]);
    const corners = async (x: number, y: number, w: number, h: number) => {
      const [[ax, ay], [bx, by]] = await onPage(page, [
        [x, y],
        [x + w, y + h],
      ]);
      return { x: ax, y: ay, w: bx - ax, h: by - ay };
    };
    const tiles = [
      ...(await Promise.all(Array.from(g.hostRack, (_, h) => corners(g.hostX(h), g.hostY(h), HOST_W, HOST_H)))).map((r, h) => ({ what: `host ${h}`, ...r })),
      ...(await Promise.all(panes[0].groups.map((gr) => corners(gr.x, gr.y, TILE, TILE)))).map((r, i) => ({ what: `group ${i}`, ...r })),
    ];
    const labels = (await ask(page, 'labels')).filter((l) => l.kind === 'transfer');
    expect(labels.length).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'transfer-labels.png') });
    for (const l of labels) {
      const over = tiles.filter((t) => l.x < t.x + t.w && t.x < l.x + l.w && l.y < t.y + t.h && t.y < l.y + l.h).map((t) => t.what);
      expect({ label: l.text, over }).toEqual({ label: l.text, over: [] });
    }
  });

  it('shows a clear error panel for a malformed scenario', async () => {
    const file = path.join(TMP, 'bad.scenario.yaml');
    writeFileSync(file, 'name: bad\nduration: 1s\nvms:\n  - count: two\n    memory: 1GiB\n');
    const page = await open(file);
    await page.waitForSelector('#error', { state: 'visible' });
    expect(await page.textContent('#error')).toMatch(/bad\.scenario\.yaml:4:\d+: vms\.0\.count: must be integer/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'error.png') });
  });
});
