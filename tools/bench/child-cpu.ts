// CPU time of the child processes a benchmark waited for, from /proc (Linux): on a
// machine shared with other work it moves far less with the load than wall time does.

import { readFileSync } from 'node:fs';

/** User + system time (ms) of every waited-for child so far; undefined where /proc is missing. */
export function childCpuMs(): number | undefined {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
    // cutime and cstime are fields 16 and 17 of the line (13 and 14 after the name), in 1/100 s.
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return undefined;
  }
}
