// Whether the engine's version satisfies a manifest's `engine` range (semver's
// meaning, prereleases included). Nearly every manifest writes an exact version or a
// caret range (`^0.1.0`): those are decided here, and only another kind of range
// loads the semver package, whose loading costs more than the rest of selecting a
// small simulation's plugins.

import semver from 'semver';

const VERSION = /^(0|[1-9]\d{0,14})\.(0|[1-9]\d{0,14})\.(0|[1-9]\d{0,14})$/;
const SIMPLE_RANGE = /^(\^?)(0|[1-9]\d{0,14})\.(0|[1-9]\d{0,14})\.(0|[1-9]\d{0,14})$/;

/**
 * `version` against an exact or caret `range` of plain major.minor.patch numbers, or
 * undefined when either is written otherwise (a prerelease, a comparator, a set).
 */
export function simpleSatisfies(version: string, range: string): boolean | undefined {
  const v = VERSION.exec(version);
  const r = SIMPLE_RANGE.exec(range);
  if (!v || !r) return undefined;
  const [major, minor, patch] = [Number(v[1]), Number(v[2]), Number(v[3])];
  const [rMajor, rMinor, rPatch] = [Number(r[2]), Number(r[3]), Number(r[4])];
  if (!r[1]) return major === rMajor && minor === rMinor && patch === rPatch;
  // A caret range allows changes below its first nonzero number: ^1.2.3 is
  // >=1.2.3 <2.0.0, ^0.2.3 is >=0.2.3 <0.3.0, ^0.0.3 is 0.0.3 only.
  const atLeast = major !== rMajor ? major > rMajor : minor !== rMinor ? minor > rMinor : patch >= rPatch;
  if (!atLeast) return false;
  if (rMajor > 0) return major === rMajor;
  if (rMinor > 0) return major === 0 && minor === rMinor;
  return major === 0 && minor === 0 && patch === rPatch;
}

/** Does `version` satisfy `range`, as semver.satisfies with prereleases included? */
export function engineRangeSatisfied(version: string, range: string): boolean {
  return simpleSatisfies(version, range) ?? semver.satisfies(version, range, { includePrerelease: true });
}
