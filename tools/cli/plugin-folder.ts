// What the CLI does with a plugin folder, inside the repository or anywhere else:
// scaffold one (`new-plugin`), generate its options type from plugin.json (`gen`),
// type-check its TypeScript against the public API (`validate`), and say which
// plugin a stack frame belongs to (for errors thrown by a plugin's code). A plugin
// outside the repository imports only 'virtlab' (and 'virtlab/testing' in its test),
// so its folder can move.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ENGINE_VERSION, type PluginManifest } from 'virtlab';
import { optionsModule } from '../gen/generate';
import { sourcePosition } from '../node/repo-root';
import { API_ENTRY, findManifests, PLUGINS_DIR, readPluginFolder, REPO_ROOT, TESTING_ENTRY } from '../node/catalog';

/** The files a new plugin starts with, and the command that runs its test. */
export interface Scaffolded {
  readonly dir: string;
  readonly testFile: string;
  readonly runTest: string;
}

/**
 * Creates plugin `id` in `parent/<name>` (name: the id after its area), or in
 * plugins/<area>/<name> of the repository when no parent is given. The test sits
 * beside the plugin outside the repository, under __tests__/plugins inside it.
 */
export function scaffoldPlugin(id: string, parent?: string): Scaffolded {
  const [area, ...nameParts] = id.split('.');
  const name = nameParts.join('-');
  const dir = path.resolve(parent ?? path.join(PLUGINS_DIR, area), name);
  if (existsSync(dir)) throw new Error(`${dir} already exists`);
  const inRepo = dir.startsWith(REPO_ROOT + path.sep);
  const counterName = `${id}.ticks`;
  const manifest = {
    // Editors validate plugin.json against this; the path is absolute outside the
    // repository so that the folder can move.
    $schema: inRepo ? path.relative(dir, path.join(REPO_ROOT, 'plugin.schema.json')).split(path.sep).join('/') : path.join(REPO_ROOT, 'plugin.schema.json'),
    id,
    version: '0.1.0',
    engine: `^${ENGINE_VERSION}`,
    description: `TODO: say in one or two sentences what ${id} models.`,
    provides: [] as string[],
    tags: [] as string[],
    options: {
      type: 'object',
      additionalProperties: false,
      properties: {
        interval: { type: 'integer', minimum: 1, default: 1, unit: 'ticks', description: 'Ticks between two runs of the system.' },
      },
    },
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'plugin.json'), JSON.stringify(manifest, null, 2) + '\n');
  writeFileSync(
    path.join(dir, 'index.ts'),
    `// ${id}: TODO say what this plugin models and how. The entry module only registers:
// it taps hooks, adds systems and provides services; it does nothing at import time.

import { definePlugin } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  const ticks = api.counter('${counterName}', 'ticks', 'Ticks at which the system ran.');
  api.addSystem({
    name: \`\${api.id}/step\`,
    phase: 'control',
    run(sim) {
      if (sim.tick % api.options.interval === 0) ticks.add();
    },
  });
});
`,
  );
  writeFileSync(path.join(dir, 'options.ts'), optionsModule(manifest as never, inRepo ? undefined : 'virtlab gen <plugin folder>'));
  writeFileSync(
    path.join(dir, 'README.md'),
    `# ${id}\n\nTODO: what it models, what it reproduces, and how to use it in a scenario:\n\n\`\`\`yaml\n${inRepo ? '' : 'pluginPaths: [path/to/the/folder/holding/this/one]\n'}plugins:\n  ${id}: { interval: 1 }\n\`\`\`\n\n` +
      (inRepo
        ? 'Options are listed in the generated catalog (`npm run gen`, plugins/README.md).\n'
        : 'After changing the options in plugin.json, run `virtlab gen <this folder>` to update options.ts, and `virtlab validate <this folder>` to check the manifest and the TypeScript.\n'),
  );
  const testDir = inRepo ? path.join(REPO_ROOT, '__tests__', 'plugins', area) : dir;
  mkdirSync(testDir, { recursive: true });
  const testFile = path.join(testDir, `${name}.test.ts`);
  writeFileSync(
    testFile,
    `// A minimal simulation with ${id}: it boots, runs, and its system runs every tick.
import { bootText } from 'virtlab/testing';

describe('${id}', () => {
  it('runs its system once per interval', async () => {
    const sim = await bootText(
      \`name: ${id}-test
preset: minimal
tick: 1ms
duration: 10ms
plugins:
  ${id}: { interval: 2 }
\`,
      {},
      ${inRepo ? '[]' : '[__dirname]'},
    );
    sim.run();
    expect(sim.metrics.value('${counterName}')).toBe(5);
  });
});
`,
  );
  const shown = (p: string) => path.relative(process.cwd(), p) || '.';
  const runTest = inRepo ? `npx jest ${shown(testFile)}` : `npx jest ${testFile} --roots ${dir} (from ${REPO_ROOT})`;
  return { dir, testFile, runTest };
}

/** The plugin folders at or below `target`: one with plugin.json, or every one beneath. */
export function pluginFolders(target: string): string[] {
  const manifests = existsSync(path.join(target, 'plugin.json')) ? [path.join(target, 'plugin.json')] : findManifests(target);
  return manifests.map((m) => path.dirname(m));
}

/** Writes options.ts of every plugin folder at or below `target`; returns the files written. */
export function generateOptions(target: string): string[] {
  const folders = pluginFolders(target);
  if (!folders.length) throw new Error(`${target} contains no plugin.json`);
  return folders.map((dir) => {
    const { manifest } = readPluginFolder(dir);
    const inRepo = path.resolve(dir).startsWith(REPO_ROOT + path.sep);
    const file = path.join(dir, 'options.ts');
    writeFileSync(file, optionsModule(manifest as PluginManifest, inRepo ? undefined : 'virtlab gen <plugin folder>'));
    return file;
  });
}

export interface TypeCheckError {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/**
 * Type-checks the TypeScript of a plugin folder with the repository's compiler
 * settings, 'virtlab' mapped to this checkout's public API. The tsconfig is written to
 * a temporary folder, so the plugin folder is left as it was. Returns the errors.
 */
export function typecheckPlugin(folder: string): TypeCheckError[] {
  const dir = path.resolve(folder);
  const repo = JSON.parse(
    readFileSync(path.join(REPO_ROOT, 'tsconfig.json'), 'utf8')
      .split('\n')
      .filter((l) => !l.trim().startsWith('//'))
      .join('\n'),
  ) as { compilerOptions: Record<string, unknown> };
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'virtlab-typecheck-'));
  try {
    const config = {
      compilerOptions: {
        ...repo.compilerOptions,
        noEmit: true,
        typeRoots: [path.join(REPO_ROOT, 'node_modules', '@types')],
        paths: { virtlab: [API_ENTRY], 'virtlab/testing': [TESTING_ENTRY] },
      },
      include: [path.join(dir, '**', '*.ts')],
      exclude: [path.join(dir, '**', 'node_modules')],
    };
    const tsconfig = path.join(tmp, 'tsconfig.json');
    writeFileSync(tsconfig, JSON.stringify(config, null, 2));
    const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', tsconfig, '--pretty', 'false'], { encoding: 'utf8', cwd: process.cwd() });
    if (r.error) throw r.error;
    if (r.status === 0) return [];
    const errors: TypeCheckError[] = [];
    for (const line of `${r.stdout}\n${r.stderr}`.split('\n')) {
      if (!line.trim()) continue;
      const m = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(line);
      if (m) errors.push({ file: path.relative(process.cwd(), path.resolve(m[1])) || m[1], line: Number(m[2]), message: `${m[5]} (${m[4]})` });
      else if (/error TS\d+/.test(line)) errors.push({ file: tsconfig, line: 1, message: line.trim() });
      else if (errors.length) errors[errors.length - 1] = { ...errors[errors.length - 1], message: `${errors[errors.length - 1].message} ${line.trim()}` };
    }
    if (!errors.length) errors.push({ file: dir, line: 1, message: `the TypeScript compiler failed: ${(r.stderr || r.stdout).trim().split('\n')[0]}` });
    return errors;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const pluginOfDir = new Map<string, { id: string; dir: string } | null>();

/** The plugin whose folder holds `file` (the nearest plugin.json above it), if any. */
export function pluginOfFile(file: string): { id: string; dir: string } | undefined {
  let d = path.dirname(path.resolve(file));
  const seen: string[] = [];
  for (;;) {
    const known = pluginOfDir.get(d);
    if (known !== undefined) {
      for (const s of seen) pluginOfDir.set(s, known);
      return known ?? undefined;
    }
    seen.push(d);
    const manifest = path.join(d, 'plugin.json');
    if (existsSync(manifest)) {
      let found: { id: string; dir: string } | null = null;
      try {
        const id = (JSON.parse(readFileSync(manifest, 'utf8')) as { id?: unknown }).id;
        if (typeof id === 'string') found = { id, dir: d };
      } catch {
        // Not a readable manifest: not a plugin folder for this purpose.
      }
      for (const s of seen) pluginOfDir.set(s, found);
      return found ?? undefined;
    }
    const up = path.dirname(d);
    if (up === d || d === REPO_ROOT) {
      for (const s of seen) pluginOfDir.set(s, null);
      return undefined;
    }
    d = up;
  }
}

/**
 * The first frame of an error's stack (or of its causes') that lies in a plugin's
 * folder: which plugin threw, and where in its code.
 */
export function throwingPlugin(e: unknown): { id: string; file: string; line: number } | undefined {
  for (let err = e as { stack?: unknown; cause?: unknown } | undefined, depth = 0; err && depth < 5; err = err.cause as typeof err, depth++) {
    if (typeof err.stack !== 'string') continue;
    for (const frame of err.stack.split('\n').slice(1)) {
      const m = /\(?((?:file:\/\/)?\/[^():]+|[A-Za-z]:\\[^():]+):(\d+):(\d+)\)?\s*$/.exec(frame);
      if (!m || m[1].includes(`${path.sep}node_modules${path.sep}`)) continue;
      // A frame in the compiled build stands for its TypeScript file and line.
      const { file, line } = sourcePosition(m[1].replace(/^file:\/\//, ''), Number(m[2]), Number(m[3]));
      const plugin = pluginOfFile(file);
      if (plugin) return { id: plugin.id, file: path.relative(process.cwd(), file) || file, line };
    }
  }
  return undefined;
}
