// Where `virtlab exec` keeps the persistent translation cache, and how it reads and
// writes it (core/models/dbt/code-cache.ts holds the format and the checks). One file
// per program, engine, engine options, guest memory size and build, named by a digest
// of them all; written whole to a temporary file and renamed, so that two processes
// writing at once leave one complete file or the other, never a torn one. The folder is
// kept under a size cap by removing the files least recently used.
//
//   VIRTLAB_CODE_CACHE=off            no cache
//   VIRTLAB_CODE_CACHE=/some/folder   the cache's folder
//   (unset)                           $XDG_CACHE_HOME/virtlab/code, else ~/.cache/virtlab/code
//   VIRTLAB_CODE_CACHE_SIZE=256MiB    the folder's cap (and so a file's)

import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { parseQuantity } from 'virtlab';
import { BUILD_ROOT, REPO_ROOT } from './repo-root';

const DEFAULT_CAP = 256 * 2 ** 20;
const SUFFIX = '.vlcc';

/** The cache's folder from the environment, or null when it is off. */
export function codeCacheDir(env: Readonly<Record<string, string | undefined>>): string | null {
  const v = (env.VIRTLAB_CODE_CACHE ?? '').trim();
  if (/^(off|0|false|no)$/i.test(v)) return null;
  if (v && v !== 'on') return path.resolve(v);
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'virtlab', 'code');
  return path.join(homedir(), '.cache', 'virtlab', 'code');
}

/** The folder's cap in bytes (VIRTLAB_CODE_CACHE_SIZE), or the default. */
export function codeCacheCap(env: Readonly<Record<string, string | undefined>>): number {
  const v = env.VIRTLAB_CODE_CACHE_SIZE;
  if (!v) return DEFAULT_CAP;
  try {
    return parseQuantity(v, 'bytes');
  } catch {
    return DEFAULT_CAP;
  }
}

let buildKeyMemo: string | undefined;

/**
 * The key of the code that translates: the compiled build's folder name (a digest of
 * every source's path, size and time), or the same digest made now when the sources
 * run uncompiled. Any edit to a translator's source gives a new key, so a cache made by
 * other translator code is never read.
 */
export function buildKey(): string {
  if (buildKeyMemo) return buildKeyMemo;
  if (BUILD_ROOT) return (buildKeyMemo = path.basename(BUILD_ROOT));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const builder = require(path.join(REPO_ROOT, 'tools', 'build', 'build.js')) as { sourceKey(root: string): string };
  return (buildKeyMemo = `src-${builder.sourceKey(REPO_ROOT)}`);
}

export interface CodeCacheFile {
  readonly file: string;
  /** For GuestLaunch.codeCache. */
  readonly launch: { readonly bytes: Uint8Array | null; readonly tag: string; readonly maxBytes: number };
  /** Why the stored file could not be read, if it could not. */
  readonly note: string | null;
}

/**
 * Opens the cache of a program run: the file's name is a digest of the ELF's bytes and
 * of everything its translations depend on; its tag (checked inside the file) names
 * the build and the engine with its options.
 */
export function openCodeCache(dir: string, cap: number, o: { elf: Uint8Array; engine: string; options: unknown; plugins: unknown; memoryBytes: number; stackBytes: number }): CodeCacheFile {
  const tag = JSON.stringify({ build: buildKey(), engine: o.engine, options: o.options, plugins: o.plugins, memoryBytes: o.memoryBytes, stackBytes: o.stackBytes });
  // Required here: the interpreter, which keeps no cache, never loads node:crypto.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  const key = createHash('sha256').update(o.elf).update('\0').update(tag).digest('hex').slice(0, 32);
  const file = path.join(dir, key + SUFFIX);
  let bytes: Uint8Array | null = null;
  let note: string | null = null;
  try {
    bytes = readFileSync(file);
    // Recently used: the last to be removed when the folder is over its cap.
    const t = new Date();
    utimesSync(file, t, t);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') note = `cannot read ${file}: ${code ?? (e as Error).message}`;
  }
  return { file, launch: { bytes, tag, maxBytes: cap }, note };
}

/** Stores the cache (temporary file, then rename) and trims the folder; returns a note on failure. */
export function storeCodeCache(file: string, bytes: Uint8Array, cap: number): string | null {
  const dir = path.dirname(file);
  const tmp = `${file}.${process.pid}.${Math.floor(performance.now() * 1000).toString(36)}.tmp`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // Never written.
    }
    return `cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  trim(dir, cap, file);
  return null;
}

/** Removes the least recently used cache files while the folder is over its cap (never `keep`). */
function trim(dir: string, cap: number, keep: string): void {
  try {
    const files = readdirSync(dir)
      .filter((n) => n.endsWith(SUFFIX))
      .map((n) => {
        const f = path.join(dir, n);
        const s = statSync(f);
        return { f, size: s.size, t: s.mtimeMs };
      })
      .sort((a, b) => a.t - b.t);
    let total = files.reduce((n, x) => n + x.size, 0);
    for (const x of files) {
      if (total <= cap) break;
      if (x.f === keep) continue;
      unlinkSync(x.f);
      total -= x.size;
    }
  } catch {
    // Another process trimmed at the same time: the next run trims again.
  }
}
