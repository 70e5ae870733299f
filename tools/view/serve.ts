// `virtlab view <scenario | results folder> [--port n] [--open] [--compare path=value…]`:
// serves the visualizer page on 127.0.0.1 and prints the URL. A scenario runs live in
// the page's worker; a results folder is replayed by running its effective
// configuration (config.json) again, which the determinism of the engine makes
// identical to the recorded run. `--compare` runs a second copy with overrides in
// lockstep beside the first (e.g. --compare plugins.placement.worst-fit=).
//
// The page is built once and cached under a digest of everything that goes into it
// (the page's sources, the core, the plugins, the host profiles and the versions of
// Vite and PixiJS): a start whose page exists serves it at once, and only an edit to
// one of those sources builds again. Builds are written into a temporary folder and
// renamed into place, so concurrent servers never see half of one and share the same
// page; Vite's output is silent unless asked for (--verbose).
//
// The server is for the user's own browser only: it listens on 127.0.0.1, answers only
// requests whose Host is a loopback name (a page elsewhere that rebinds its DNS name
// to 127.0.0.1 gets 403, not /scenario.json), answers a malformed request with 400
// and goes on, and takes its port before a (slow) build, so a port in use is a
// one-line error at once.

import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { parseAssignment } from '../cli/args';
import { REPO_ROOT } from '../node/repo-root';

/**
 * Where built pages are cached, one folder per digest: results/.view-build, or the
 * folder VIRTLAB_VIEW_BUILD_DIR names (the tests build into a temporary folder).
 */
export function viewCacheRoot(): string {
  return process.env.VIRTLAB_VIEW_BUILD_DIR ? path.resolve(process.env.VIRTLAB_VIEW_BUILD_DIR) : path.join(REPO_ROOT, 'results', '.view-build');
}

/** The folders and packages whose contents the page is built from; the server and the benchmark are not part of it. */
const PAGE_SOURCES = ['tools/view', 'core', 'plugins', 'hosts'];
const NOT_PAGE = new Set(['tools/view/serve.ts', 'tools/view/bench.ts']);
const PAGE_PACKAGES = ['vite', 'pixi.js', 'binaryen'];
/** Cached pages kept besides the current one. */
const KEEP_PAGES = 2;

/** A digest of the contents of every file the page is built from, and of the bundler's and renderer's versions. */
export function pageDigest(root = REPO_ROOT): string {
  const h = createHash('sha1');
  const files: string[] = [];
  for (const d of PAGE_SOURCES) {
    let names: string[];
    try {
      names = readdirSync(path.join(root, d), { recursive: true, encoding: 'utf8' });
    } catch {
      continue;
    }
    for (const n of names) {
      const rel = path.join(d, n).split(path.sep).join('/');
      // Hidden files and installed packages are not sources; the server and the benchmark are not the page.
      if (rel.split('/').some((part) => part === 'node_modules' || part.startsWith('.')) || NOT_PAGE.has(rel)) continue;
      if (statSync(path.join(root, rel)).isFile()) files.push(path.join(root, rel));
    }
  }
  files.sort();
  for (const f of files) h.update(`${path.relative(root, f)}\0`).update(readFileSync(f)).update('\0');
  for (const p of PAGE_PACKAGES) {
    try {
      h.update(`${p}@${(JSON.parse(readFileSync(require.resolve(`${p}/package.json`, { paths: [root] }), 'utf8')) as { version: string }).version}\n`);
    } catch {
      h.update(`${p}@none\n`);
    }
  }
  return h.digest('hex').slice(0, 16);
}

/** The folder of the page for the sources as they are now. */
export function pageDir(digest = pageDigest()): string {
  return path.join(viewCacheRoot(), digest);
}

/** Whether the page for the current sources is built. */
export function pageReady(dir = pageDir()): boolean {
  return existsSync(path.join(dir, 'index.html'));
}

/**
 * Builds the page into `dir` (Vite, production mode) unless it is there; returns the
 * folder and whether it built. `log` receives Vite's own output when given (--verbose).
 */
export async function ensurePage(dir = pageDir(), log?: (line: string) => void): Promise<{ dir: string; built: boolean }> {
  if (pageReady(dir)) {
    // Marks it recently used, so pruning keeps it.
    const now = new Date();
    try {
      utimesSync(dir, now, now);
    } catch {
      // A read-only cache is still served.
    }
    return { dir, built: false };
  }
  const cache = path.dirname(dir);
  mkdirSync(cache, { recursive: true });
  const tmp = mkdtempSync(path.join(cache, `.tmp-${path.basename(dir)}-`));
  try {
    const { build, createLogger } = await import('vite');
    // require() goes through the TypeScript loader (tsx); the config itself is plain data.
    const config = (require('./vite.config') as { default: Record<string, unknown> }).default;
    const logger = createLogger(log ? 'info' : 'silent');
    if (log) for (const level of ['info', 'warn', 'warnOnce', 'error'] as const) logger[level] = (msg: string) => log(msg);
    await build({ ...config, customLogger: logger, logLevel: log ? 'info' : 'silent', build: { ...(config.build as object), outDir: tmp, emptyOutDir: true }, configFile: false });
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another process finished the same page first: its copy is as good.
      if (!pageReady(dir)) throw e;
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  prunePages(cache, path.basename(dir));
  return { dir, built: true };
}

/** Removes cached pages of earlier sources but the newest few (a running server may still serve one). */
function prunePages(cache: string, keep: string): void {
  const pages = readdirSync(cache)
    .filter((n) => n !== keep && /^[0-9a-f]{16}$/.test(n))
    .map((n) => ({ n, t: statSync(path.join(cache, n)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const p of pages.slice(KEEP_PAGES)) rmSync(path.join(cache, p.n), { recursive: true, force: true });
}

/** Host names the server answers: loopback only (DNS rebinding protection). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Is a Host header a loopback name (with or without a port)? */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d*$/, '');
  return LOOPBACK_HOSTS.has(name.toLowerCase());
}
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml' };

/**
 * The scenario text of a results folder: its config.json as it is, which the scenario
 * loader recognizes and runs as the scenario it was resolved from.
 */
export function scenarioFromResults(dir: string): { text: string; file: string } {
  return { text: readFileSync(path.join(dir, 'config.json'), 'utf8'), file: `${dir}/config.json` };
}

/** The overrides of `--compare path=value` arguments, each naming its argument (as `--set` does) should the loader refuse it. */
export function compareOverrides(args: readonly string[]): Array<{ path: string; value: unknown; origin: { source: string; argument: string } }> {
  return args.map((s) => {
    // An empty value removes the key (--compare plugins.placement.worst-fit=).
    const { path: key, value } = parseAssignment('--compare', s, 'plugins.placement.worst-fit=');
    return { path: key, value: s.slice(s.indexOf('=') + 1) === '' ? null : value, origin: { source: 'command line', argument: `--compare ${s}` } };
  });
}

export interface ViewOptions {
  readonly target: string;
  readonly port: number;
  readonly compare?: string[];
  /** Receives Vite's output if the page must be built (--verbose). */
  readonly log?: (line: string) => void;
  /** Told once, before a build starts, that the page is being built (it takes a while, once). */
  readonly building?: () => void;
}

/**
 * Takes the port, builds the page if its sources changed since the cached one, and
 * serves it; resolves with the server, its URL and `close`, which stops it.
 */
export async function serveView(o: ViewOptions): Promise<{ server: Server; url: string; close: () => void }> {
  if (!existsSync(o.target)) throw new Error(`no such scenario or results folder: ${o.target}`);
  const isResults = statSync(o.target).isDirectory();
  const scenario = isResults ? scenarioFromResults(o.target) : { text: readFileSync(o.target, 'utf8'), file: path.relative(process.cwd(), o.target) };
  const report = isResults && existsSync(path.join(o.target, 'report.html')) ? '/report.html' : undefined;
  const compare = o.compare?.length ? { label: o.compare.join(' '), set: compareOverrides(o.compare) } : undefined;
  const OUT = pageDir();
  const info = JSON.stringify({ ...scenario, compare, report });
  const server = createServer((req, res) => {
    if (!isLoopbackHost(req.headers.host)) {
      res.writeHead(403);
      res.end('virtlab view answers only to 127.0.0.1, localhost and [::1]');
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      res.writeHead(400);
      res.end('bad request');
      return;
    }
    if (url.pathname === '/scenario.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(info);
      return;
    }
    if (url.pathname === '/report.html' && isResults) {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(readFileSync(path.join(o.target, 'report.html')));
      return;
    }
    const file = path.join(OUT, path.normalize(url.pathname === '/' ? '/index.html' : url.pathname));
    if (!file.startsWith(OUT) || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404);
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  // A request the HTTP parser refuses gets 400; the server goes on.
  server.on('clientError', (_e, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new Error(`--port expects a port number 0–65535, got '${o.port}'`);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(e.code === 'EADDRINUSE' ? `port ${o.port} on 127.0.0.1 is in use` : e.code === 'EACCES' ? `port ${o.port} needs privileges` : `cannot listen on port ${o.port}: ${e.message}`)),
    );
    server.listen(o.port, '127.0.0.1', resolve);
  });
  const close = () => server.close();
  try {
    if (!pageReady(OUT)) o.building?.();
    await ensurePage(OUT, o.log);
  } catch (e) {
    close();
    throw e;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  return { server, url: `http://127.0.0.1:${port}/`, close };
}
