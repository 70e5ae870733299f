// `virtlab view <scenario | results folder> [--port n] [--open] [--compare path=value…]`:
// builds the visualizer page with Vite, serves it on 127.0.0.1, and prints the URL. A
// scenario runs live in the page's worker; a results folder is replayed by running its
// effective configuration (config.json) again, which the determinism of the engine
// makes identical to the recorded run. `--compare` runs a second copy with overrides in
// lockstep beside the first (e.g. --compare plugins.placement.worst-fit=).
//
// The server is for the user's own browser only: it listens on 127.0.0.1, answers only
// requests whose Host is a loopback name (a page elsewhere that rebinds its DNS name
// to 127.0.0.1 gets 403, not /scenario.json), answers a malformed request with 400
// and goes on, and takes its port before the (slow) build, so a port in use is a
// one-line error at once. Each server builds its page into a folder of its own, so a
// second `view` never empties the first one's page.

import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAssignment } from '../cli/args';
import { REPO_ROOT } from '../node/catalog';

/**
 * Where the page is built: results/.view-build, or the folder VIRTLAB_VIEW_BUILD_DIR
 * names (the tests build into a temporary folder, outside the repository).
 */
export function viewBuildDir(): string {
  return process.env.VIRTLAB_VIEW_BUILD_DIR ? path.resolve(process.env.VIRTLAB_VIEW_BUILD_DIR) : path.join(REPO_ROOT, 'results', '.view-build');
}

/** The build folder of one server: viewBuildDir() when the tests name it, else one per process. */
export function serverBuildDir(): string {
  return process.env.VIRTLAB_VIEW_BUILD_DIR ? viewBuildDir() : `${viewBuildDir()}-${process.pid}`;
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

/** Builds the page into viewBuildDir() (Vite, production mode). */
export async function buildView(outDir = viewBuildDir()): Promise<string> {
  const { build } = await import('vite');
  // require() goes through the TypeScript loader (tsx); the config itself is plain data.
  const config = (require('./vite.config') as { default: Record<string, unknown> }).default;
  await build({ ...config, build: { ...(config.build as object), outDir }, configFile: false });
  return outDir;
}

/**
 * The scenario text of a results folder: its config.json as it is, which the scenario
 * loader recognizes and runs as the scenario it was resolved from.
 */
export function scenarioFromResults(dir: string): { text: string; file: string } {
  return { text: readFileSync(path.join(dir, 'config.json'), 'utf8'), file: `${dir}/config.json` };
}

export interface ViewOptions {
  readonly target: string;
  readonly port: number;
  readonly compare?: string[];
  /** Reuse the page built by an earlier call (tests serve several targets). */
  readonly skipBuild?: boolean;
}

/**
 * Takes the port, builds the page and serves it; resolves with the server, its URL
 * and `close`, which stops it and removes its build folder.
 */
export async function serveView(o: ViewOptions): Promise<{ server: Server; url: string; close: () => void }> {
  if (!existsSync(o.target)) throw new Error(`no such scenario or results folder: ${o.target}`);
  const isResults = statSync(o.target).isDirectory();
  const scenario = isResults ? scenarioFromResults(o.target) : { text: readFileSync(o.target, 'utf8'), file: path.relative(process.cwd(), o.target) };
  const report = isResults && existsSync(path.join(o.target, 'report.html')) ? '/report.html' : undefined;
  const compare = o.compare?.length
    ? {
        label: o.compare.join(' '),
        set: o.compare.map((s) => {
          // An empty value removes the key (--compare plugins.placement.worst-fit=).
          const { path: key, value } = parseAssignment('--compare', s, 'plugins.placement.worst-fit=');
          return { path: key, value: s.slice(s.indexOf('=') + 1) === '' ? null : value };
        }),
      }
    : undefined;
  // A page built before (build-only, or the tests) is served as it is; a server that
  // builds uses a folder of its own.
  const OUT = o.skipBuild && existsSync(path.join(viewBuildDir(), 'index.html')) ? viewBuildDir() : serverBuildDir();
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
  const close = () => {
    server.close();
    if (OUT !== viewBuildDir()) rmSync(OUT, { recursive: true, force: true });
  };
  try {
    if (!o.skipBuild || !existsSync(path.join(OUT, 'index.html'))) await buildView(OUT);
  } catch (e) {
    close();
    throw e;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  return { server, url: `http://127.0.0.1:${port}/`, close };
}
