// `virtlab report <results folder>`: writes report.html into the folder — a
// self-contained page (inline SVG, no scripts, no network) with a chart per time
// series (zoomed to the active window, with event markers), the metrics with their
// descriptions, the plugins and their options in units, the migrations and an events
// table when the run has them, and the speedup of each GPU kernel per GPU when GPU
// workloads ran (gpu/kernels.json). Every number goes through the one formatting
// module (core/units/format.ts) and every VM and host is named as everywhere else
// (core/models/datacenter/names.ts), so the page can be pasted into a paper's
// artifact appendix.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatDuration, formatMetric, formatNumber, formatOptionValue, formatValue, groupThousands, type MetricRecord } from 'virtlab';
import { activeWindow, esc, PALETTE, timeChart, type Marker } from './chart';
import { wssSection } from './wss';

const fmt = formatNumber;


/**
 * Goodput against message size, one line per personality, as inline SVG: the x axis
 * is logarithmic in the message size, the y axis linear in Mbit/s.
 */
export function goodputChart(title: string, sizes: readonly number[], series: ReadonlyMap<string, readonly number[]>): string {
  const W = 620;
  const H = 260;
  const L = 64;
  const B = 30;
  const R = 130;
  const all = [...series.values()].flat().filter(Number.isFinite).map((v) => v / 1e6);
  const hi = Math.max(1e-9, ...all);
  const lx = sizes.map((m) => Math.log2(m));
  const x0 = Math.min(...lx);
  const x1 = Math.max(x0 + 1, ...lx);
  const x = (i: number) => L + ((lx[i] - x0) / (x1 - x0)) * (W - L - R);
  const y = (v: number) => H - B - (v / hi) * (H - B - 12);
  const lines = [...series.entries()]
    .map(([name, vs], k) => {
      const c = PALETTE[k % PALETTE.length];
      const pts = vs.map((v, i) => `${x(i).toFixed(1)},${y(v / 1e6).toFixed(1)}`).join(' ');
      return `<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts}"/><text x="${W - R + 8}" y="${20 + k * 16}" font-size="12" fill="${c}">${esc(name)}</text>`;
    })
    .join('\n');
  const ticks = sizes.map((m, i) => `<text x="${x(i).toFixed(1)}" y="${H - 10}" text-anchor="middle" font-size="10">${m >= 1024 ? `${m / 1024}K` : m}</text>`).join('');
  return `<figure><figcaption>${esc(title)} <small>(Mbit/s against message size in bytes)</small></figcaption>
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">
<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#999"/><line x1="${L}" y1="12" x2="${L}" y2="${H - B}" stroke="#999"/>
<text x="${L - 4}" y="${y(hi) + 4}" text-anchor="end" font-size="11">${fmt(hi)}</text><text x="${L - 4}" y="${y(0) + 4}" text-anchor="end" font-size="11">0</text>
${ticks}
${lines}
</svg></figure>`;
}

/** The packet workloads of a run (netperf.json): the goodput chart and a table per experiment. */
function packetSection(dir: string): string {
  const file = path.join(dir, 'netperf.json');
  if (!existsSync(file)) return '';
  const rows = JSON.parse(readFileSync(file, 'utf8')) as Array<{ group: string; kind: string; personality: string; messageSize?: number; goodputBps: number; transactionsPerS: number; latencyMeanNs: number; retransmits: number; framesOut: number }>;
  const streams = rows.filter((r) => r.kind === 'tcp-stream' && r.messageSize !== undefined);
  const sizes = [...new Set(streams.map((r) => r.messageSize!))].sort((a, b) => a - b);
  const series = new Map<string, number[]>();
  for (const p of [...new Set(streams.map((r) => r.personality))]) {
    series.set(p.replace(/^kernel\./, ''), sizes.map((m) => streams.filter((r) => r.personality === p && r.messageSize === m).reduce((a, r) => a + r.goodputBps, 0)));
  }
  const chart = sizes.length ? goodputChart('TCP_STREAM goodput', sizes, series) : '';
  const table = `<table><tr><th>group</th><th>workload</th><th>kernel</th><th>goodput</th><th>transactions/s</th><th>latency</th><th>retransmissions</th><th>frames</th></tr>${rows
    .map((r) => `<tr><td>${esc(r.group)}</td><td>${esc(r.kind)}${r.messageSize ? ` ${r.messageSize} B` : ''}</td><td>${esc(r.personality)}</td><td class="n">${formatValue(r.goodputBps, 'bit/s')}</td><td class="n">${fmt(r.transactionsPerS)}</td><td class="n">${formatValue(r.latencyMeanNs, 'ns')}</td><td class="n">${r.retransmits}</td><td class="n">${fmt(r.framesOut)}</td></tr>`)
    .join('')}</table>`;
  return `<h2>Packet workloads</h2>${chart}${table}`;
}

/** A horizontal bar chart as inline SVG, with its value beside each bar and an optional reference line at `mark` (1× for speedups). */
export function barChart(title: string, labels: string[], values: number[], unit: string, mark?: number): string {
  const W = 620;
  const L = 300;
  const row = 20;
  const H = labels.length * row + 24;
  const hi = Math.max(mark ?? 1e-12, ...values.filter(Number.isFinite)) * 1.1;
  const x = (v: number) => L + (v / hi) * (W - L - 50);
  const bars = labels
    .map((l, i) => `<text x="${L - 6}" y="${i * row + 14}" text-anchor="end" font-size="11">${esc(l)}</text><rect x="${L}" y="${i * row + 3}" width="${Math.max(0, x(values[i]) - L).toFixed(1)}" height="${row - 6}" fill="#1565c0"/><text x="${x(values[i]) + 4}" y="${i * row + 14}" font-size="11">${fmt(values[i])}</text>`)
    .join('');
  return `<figure><figcaption>${esc(title)} <small>(${esc(unit)})</small></figcaption>
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${bars}
${mark === undefined ? '' : `<line x1="${x(mark)}" y1="0" x2="${x(mark)}" y2="${H - 20}" stroke="#999" stroke-dasharray="3,3"/><text x="${x(mark)}" y="${H - 6}" text-anchor="middle" font-size="11">${fmt(mark)}</text>`}
</svg></figure>`;
}

/** Host instruction classes of the host code model's engine counters (host<Class>). */
const HOST_MIX = ['Alu', 'Load', 'Store', 'Spill', 'Reload', 'LaneInsert', 'LaneExtract', 'VectorAlu', 'Fp', 'Branch', 'Call', 'FpHelper', 'Softfloat', 'LowLaneExtract'];

/** Charts of the modelled host instruction mix per guest, when the run had a register map (guests/engine.json). */
function hostCodeCharts(dir: string): string {
  const file = path.join(dir, 'guests', 'engine.json');
  if (!existsSync(file)) return '';
  const { guests } = JSON.parse(readFileSync(file, 'utf8')) as { guests: Record<string, Record<string, number>> };
  const charts = Object.entries(guests)
    .filter(([, c]) => (c.hostGuestInstructions ?? 0) > 0)
    .map(([name, c]) =>
      barChart(
        `${name}: modelled host instructions per guest instruction by class — ${c.hostPerGuest} instructions, ${c.hostCyclesPerGuest} cycles`,
        HOST_MIX.map((k) => k[0].toLowerCase() + k.slice(1)),
        HOST_MIX.map((k) => (c[`host${k}`] ?? 0) / c.hostGuestInstructions),
        'per guest instruction',
      ),
    );
  return charts.length ? `<h2>Host code model</h2>${charts.join('\n')}` : '';
}

/** An event of events.jsonl (trace.events), with the names it carries. */
interface TraceEvent {
  t: number;
  type: string;
  vm?: number;
  vmName?: string;
  hostName?: string;
  srcName?: string;
  dstName?: string;
  [k: string]: unknown;
}

const MARKER_COLORS: Record<string, string> = { 'migration-start': '#2e7d32', 'migration-switch': '#ef6c00', 'migration-end': '#1565c0', 'placement-failed': '#c62828' };

/** What happened, in words: "app-3 moves from rack0/host1 to rack1/host0 (precopy)". */
function describeEvent(e: TraceEvent): string {
  const vm = e.vmName ?? (e.vm === undefined ? '' : `#${e.vm}`);
  switch (e.type) {
    case 'vm-placed':
      return `${vm} placed on ${e.hostName ?? e.host}`;
    case 'placement-failed':
      return `${vm} has no host: ${e.reason}`;
    case 'migration-start':
      return `${vm} starts moving from ${e.srcName ?? e.src} to ${e.dstName ?? e.dst} (${e.method})`;
    case 'migration-round':
      return `${vm}: round ${Number(e.round) + 1} sent ${formatValue(Number(e.bytesSent), 'bytes')}, ${groupThousands(Number(e.pagesRemaining))} pages left, dirtying ${formatValue(Number(e.dirtyRatePagesPerS), 'pages/s')}`;
    case 'migration-switch':
      return `${vm} switches to ${e.to}${e.reason ? `: ${e.reason}` : ''}`;
    case 'migration-end':
      return `${vm} ${e.success ? 'arrived' : 'did not move'} after ${formatValue(Number(e.totalNs), 'ns')} (downtime ${formatValue(Number(e.downtimeNs), 'ns')}, ${e.rounds} rounds, ${formatValue(Number(e.bytesSent), 'bytes')})`;
    default:
      return Object.entries(e)
        .filter(([k]) => k !== 't' && k !== 'type')
        .map(([k, v]) => `${k} ${typeof v === 'number' ? formatValue(v, '') : String(v)}`)
        .join(', ');
  }
}

/** Events worth a line on the charts: migrations' starts, switches and ends, and placement failures. */
function markersOf(events: readonly TraceEvent[]): Marker[] {
  return events.filter((e) => e.type in MARKER_COLORS).map((e) => ({ t: e.t, color: MARKER_COLORS[e.type], label: `${e.type.replace('migration-', 'migration ')}: ${describeEvent(e)}` }));
}

/** Units of each plugin's options, from the installed manifests (a plugin from elsewhere shows bare values). */
export function optionUnits(): (id: string, option: string) => string | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { loadCatalog } = require('../node/catalog') as typeof import('../node/catalog');
    const catalog = loadCatalog();
    return (id, option) => (catalog.get(id)?.manifest.options.properties[option] as { unit?: string } | undefined)?.unit;
  } catch {
    return () => undefined;
  }
}

export function writeReport(dir: string): string {
  const need = (f: string) => {
    const p = path.join(dir, f);
    if (!existsSync(p)) throw new Error(`${dir} has no ${f}: is it a results folder of virtlab run?`);
    return readFileSync(p, 'utf8');
  };
  const metrics = JSON.parse(need('metrics.json')) as { scenario: string; seed: number; simulatedNs: number; ticks?: number; metrics: Record<string, MetricRecord> };
  const config = JSON.parse(need('config.json')) as { scenario: { description: string }; plugins: Array<{ id: string; version: string; options: Record<string, unknown> }> };
  const csv = need('timeseries.csv').trim().split('\n');
  const header = csv[0].split(',');
  const rows = csv.slice(1).map((l) => l.split(',').map(Number));
  const times = rows.map((r) => r[0]);
  const events: TraceEvent[] = existsSync(path.join(dir, 'events.jsonl'))
    ? readFileSync(path.join(dir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as TraceEvent)
    : [];
  const markers = markersOf(events);
  const series = header.slice(1).map((name, i) => ({ name, t: times, v: rows.map((r) => r[i + 1]) }));
  // One window for every chart, so that the charts line up.
  const window = activeWindow(series, markers, [0, metrics.simulatedNs]);
  const charts = series.map((s) => {
    const m = metrics.metrics[s.name];
    return timeChart({ title: s.name, unit: m?.unit ?? '', description: m?.description, series: [s], markers, window, runNs: metrics.simulatedNs });
  });
  const metricRows = Object.entries(metrics.metrics)
    .map(([k, m]) => `<tr><td><code>${esc(k)}</code></td><td class="n">${esc(formatMetric(m))}</td><td>${esc(m.description ?? '')}</td></tr>`)
    .join('\n');
  const unitOf = optionUnits();
  const plugins = config.plugins
    .map((p) => {
      const opts = Object.entries(p.options ?? {}).map(([k, v]) => `${esc(k)}: ${esc(formatOptionValue(v, unitOf(p.id, k)))}`);
      return `<tr><td><b>${esc(p.id)}</b></td><td>${esc(p.version)}</td><td>${opts.join('<br>') || '—'}</td></tr>`;
    })
    .join('\n');
  let migrations = '';
  if (existsSync(path.join(dir, 'migrations.json'))) {
    const ms = JSON.parse(readFileSync(path.join(dir, 'migrations.json'), 'utf8')) as Array<{ vm: number; vmName?: string; srcName?: string; dstName?: string; success: boolean | null; lost?: boolean; timeMs: number | null; downtimeMs: number; bytesSent: number; rounds: number; decisions: Array<{ action: string; reason: string }> }>;
    migrations = `<h2>Migrations</h2><table><tr><th>VM</th><th>from</th><th>to</th><th>outcome</th><th>time</th><th>downtime</th><th>sent</th><th>rounds</th><th>decisions</th></tr>${ms
      .map((m) => `<tr><td>${esc(m.vmName ?? `#${m.vm}`)}</td><td>${esc(m.srcName ?? '')}</td><td>${esc(m.dstName ?? '')}</td><td>${m.success === null ? 'running' : m.success ? 'done' : m.lost ? 'lost' : 'aborted'}</td><td class="n">${m.timeMs === null ? '—' : formatValue(m.timeMs, 'ms')}</td><td class="n">${formatValue(m.downtimeMs, 'ms')}</td><td class="n">${formatValue(m.bytesSent ?? 0, 'bytes')}</td><td class="n">${m.rounds}</td><td>${esc(m.decisions.map((d) => `${d.action} (${d.reason})`).join('; '))}</td></tr>`)
      .join('')}</table>`;
  }
  let gpu = '';
  if (existsSync(path.join(dir, 'gpu', 'kernels.json'))) {
    const ks = JSON.parse(readFileSync(path.join(dir, 'gpu', 'kernels.json'), 'utf8')) as Array<{ benchmark: string; gpu: string; speedup: number }>;
    gpu = `<h2>GPU kernels</h2>${barChart('speedup over the global-memory-only kernel, per benchmark and GPU', ks.map((k) => `${k.benchmark} on ${k.gpu.split(' (')[0]}`), ks.map((k) => k.speedup), '×', 1)}`;
  }
  let eventsTable = '';
  if (events.length) {
    // Events of one kind at one instant (forty VMs placed at 0 s) are one row that opens.
    const runs: TraceEvent[][] = [];
    for (const e of events) {
      const last = runs[runs.length - 1];
      if (last && last[0].type === e.type && last[0].t === e.t) last.push(e);
      else runs.push([e]);
    }
    const shown = runs.slice(0, 500);
    const row = (run: TraceEvent[]) => {
      const what =
        run.length < 4
          ? run.map((e) => esc(describeEvent(e))).join('<br>')
          : `<details><summary>${run.length} × ${esc(run[0].type.replace('-', ' '))}: ${esc(run[0].vmName ?? '')} … ${esc(run[run.length - 1].vmName ?? '')}</summary>${run.map((e) => esc(describeEvent(e))).join('<br>')}</details>`;
      return `<tr><td class="n">${esc(formatDuration(run[0].t))}</td><td>${esc(run[0].type)}</td><td>${what}</td></tr>`;
    };
    eventsTable = `<h2>Events</h2><table class="events"><tr><th>time</th><th>event</th><th>what happened</th></tr>${shown.map(row).join('')}</table>${runs.length > shown.length ? `<p>${groupThousands(runs.length - shown.length)} more rows of events in events.jsonl.</p>` : ''}`;
  }
  const html = `<!doctype html><html lang="en"><meta charset="utf-8"><title>${esc(metrics.scenario)} — virtlab report</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}figure{display:inline-block;margin:0 1em 1.2em 0;vertical-align:top}figcaption{font-weight:600;max-width:560px}figcaption small{font-weight:400;color:#555}
small.window{display:block;color:#666}svg text{font-family:system-ui,sans-serif}circle.pt{opacity:0}circle.pt:hover{opacity:1}g.marker:hover line{stroke-width:3}
table{border-collapse:collapse;margin-bottom:1em}td,th{border:1px solid #ddd;padding:3px 8px;vertical-align:top}th{background:#f4f4f4;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.events{font-size:13px}.legend span{margin-right:1.2em}</style>
<h1>${esc(metrics.scenario)}</h1><p>${esc(config.scenario.description)}</p>
<p>seed ${metrics.seed}, ${esc(formatDuration(metrics.simulatedNs))} simulated${metrics.ticks ? ` in ${groupThousands(metrics.ticks)} ticks` : ''}</p>
<h2>Time series</h2>${charts.length && markers.length ? `<p class="legend">${Object.entries(MARKER_COLORS).map(([k, c]) => `<span style="color:${c}">┊ ${esc(k.replace('-', ' '))}</span>`).join('')} — hover a line or a point for its time and value</p>` : ''}${charts.join('\n') || '<p>No time series were recorded (add record.series to the scenario).</p>'}${wssSection(dir)}
<h2>Metrics</h2><table><tr><th>metric</th><th>value</th><th>what it measures</th></tr>${metricRows}</table>
<h2>Plugins</h2><table><tr><th>plugin</th><th>version</th><th>options</th></tr>${plugins}</table>${packetSection(dir)}${gpu}${hostCodeCharts(dir)}${migrations}${eventsTable}
</html>
`;
  const out = path.join(dir, 'report.html');
  writeFileSync(out, html);
  return out;
}
