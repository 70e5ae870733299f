// Where the repository is, whether this code runs from the TypeScript sources (jest,
// tsx) or from the compiled build in dist/<key>/ (the virtlab command; see
// tools/build/build.js). Data files (plugin.json, scenarios, hosts, guests) are always
// read from the sources; only code runs from the build. No imports beyond node: this
// module is loaded by the visualizer's Vite configuration too.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const up = path.resolve(__dirname, '..', '..');

/** The compiled build this code runs from, or undefined when it runs from the sources. */
export const BUILD_ROOT: string | undefined = existsSync(path.join(up, 'BUILD.json')) ? up : undefined;

/** The repository root. */
export const REPO_ROOT = BUILD_ROOT ? path.resolve(up, '..', '..') : up;

/**
 * The module to load for a source file of the repository: its compiled copy when this
 * process runs from a build (and the copy exists), else the file itself.
 */
export function runnableFile(source: string): string {
  if (!BUILD_ROOT) return source;
  const rel = path.relative(REPO_ROOT, source);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return source;
  const compiled = path.join(BUILD_ROOT, rel.replace(/\.ts$/, '.js'));
  return existsSync(compiled) ? compiled : source;
}

/**
 * The TypeScript file and line of a position in a compiled file of the build (from its
 * source map), or the position itself when it is not one.
 */
export function sourcePosition(file: string, line: number, column = 1): { file: string; line: number } {
  if (!BUILD_ROOT || !file.startsWith(BUILD_ROOT + path.sep) || !file.endsWith('.js')) return { file, line };
  try {
    const { SourceMap } = require('node:module') as typeof import('node:module');
    const map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
    const entry = map.findEntry(line - 1, Math.max(0, column - 1)) as { originalSource?: string; originalLine?: number };
    if (!entry.originalSource || entry.originalLine === undefined) return { file, line };
    const source = entry.originalSource.startsWith('file://') ? new URL(entry.originalSource).pathname : path.resolve(path.dirname(file), entry.originalSource);
    return { file: source, line: entry.originalLine + 1 };
  } catch {
    return { file, line };
  }
}
