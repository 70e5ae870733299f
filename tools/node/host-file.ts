// Reads a host file that a scenario or `virtlab exec` hands to a guest (`files:`,
// `--mount`, a guest program) or that holds a scenario, with a size cap: only regular
// files, and no more than the documented limit. A character device such as /dev/zero
// has no size to check and would be read until memory ran out, so it is refused; the
// read itself stops one byte past the cap, so a file that grows meanwhile is caught too.

import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** A host file that cannot be read under the limits; `problem` is one line. */
export class HostFileError extends Error {}

/** The bytes of a regular host file of at most `limit` bytes; `what` names it in messages. */
export function readHostFile(file: string, limit: number, what: string): Uint8Array {
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new HostFileError(`${what}: no such file ${file}`);
  }
  if (!st.isFile()) throw new HostFileError(`${what}: ${file} is not a regular file (${kind(st)}); only regular files can be handed to a guest`);
  if (st.size > limit) throw new HostFileError(`${what}: ${file} is ${st.size} bytes; the limit is ${limit} bytes`);
  const buf = new Uint8Array(Math.min(st.size, limit) + 1);
  const fd = openSync(file, 'r');
  let n = 0;
  try {
    for (let r; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += r;
  } finally {
    closeSync(fd);
  }
  if (n > limit) throw new HostFileError(`${what}: ${file} grew past the limit of ${limit} bytes while it was read`);
  // A view, not a copy: a program of megabytes would be written to fresh memory twice.
  return buf.subarray(0, n);
}

function kind(st: ReturnType<typeof statSync>): string {
  if (!st) return 'unknown';
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a pipe';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}
