// `virtlab view <scenario | results folder> [--port n] [--open] [--compare path=value…]`:
// builds the visualizer page with Vite, serves it on 127.0.0.1, and prints the URL. A
// scenario runs live in the page's worker; a results folder is replayed by running its
// effective configuration (config.json) again, which the determinism of the engine
// makes identical to the recorded run. `--compare` runs a second copy with overrides in
// lockstep beside the first (e.g. --compare plugins.placement.worst-fit=).

import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from '../node/catalog';

/**
 * Where the page is built: results/.view-build, or the folder VIRTLAB_VIEW_BUILD_DIR
 * names (the tests build into a temporary folder, outside the repository).
 */
export function viewBuildDir(): string {
  return process.env.VIRTLAB_VIEW_BUILD_DIR ? path.resolve(process.env.VIRTLAB_VIEW_BUILD_DIR) : path.join(REPO_ROOT, 'results', '.view-build');
}
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml' };

/** Builds the page into viewBuildDir() (Vite, production mode). */
export async function buildView(): Promise<string> {
  const { build } = await import('vite');
  // require() goes through the TypeScript loader (tsx); the config itself is plain data.
  const config = (require('./vite.config') as { default: Record<string, unknown> }).default;
  const outDir = viewBuildDir();
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

/** Builds the page and serves it; resolves with the server and its URL. */
export async function serveView(o: ViewOptions): Promise<{ server: Server; url: string }> {
  if (!existsSync(o.target)) throw new Error(`no such scenario or results folder: ${o.target}`);
  const isResults = statSync(o.target).isDirectory();
  const scenario = isResults ? scenarioFromResults(o.target) : { text: readFileSync(o.target, 'utf8'), file: path.relative(process.cwd(), o.target) };
  const report = isResults && existsSync(path.join(o.target, 'report.html')) ? '/report.html' : undefined;
  const compare = o.compare?.length
    ? {
        label: o.compare.join(' '),
        set: o.compare.map((s) => {
          const eq = s.indexOf('=');
          if (eq <= 0) throw new Error(`--compare expects path=value, got '${s}'`);
          return { path: s.slice(0, eq), value: s.slice(eq + 1) === '' ? null : (parseYaml(s.slice(eq + 1)) as unknown) };
        }),
      }
    : undefined;
  const OUT = viewBuildDir();
  if (!o.skipBuild || !existsSync(path.join(OUT, 'index.html'))) await buildView();
  const info = JSON.stringify({ ...scenario, compare, report });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
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
  await new Promise<void>((resolve) => server.listen(o.port, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  return { server, url: `http://127.0.0.1:${port}/` };
}
