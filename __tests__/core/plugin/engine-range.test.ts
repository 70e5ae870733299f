// The engine-range check without the semver package (core/plugin/engine-range.ts):
// for exact and caret ranges it decides as semver.satisfies does, over a grid of
// versions and ranges around every boundary, and it leaves any other range to semver.
// Mutations that must break it: letting ^0.x.y accept the next minor (treating a zero
// major like a nonzero one); letting ^0.0.z accept a later patch; dropping the lower
// bound (`atLeast`) of a caret range.
import semver from 'semver';
import { engineRangeSatisfied, simpleSatisfies } from '../../../core/plugin/engine-range';

const numbers = [0, 1, 2, 10];
const versions = numbers.flatMap((a) => numbers.flatMap((b) => numbers.map((c) => `${a}.${b}.${c}`)));

describe('engine ranges', () => {
  it('decides exact and caret ranges as semver does', () => {
    let decided = 0;
    for (const range of versions.flatMap((v) => [v, `^${v}`])) {
      for (const version of versions) {
        const mine = simpleSatisfies(version, range);
        expect(mine).toBeDefined();
        if (mine !== semver.satisfies(version, range, { includePrerelease: true })) throw new Error(`${version} against ${range}: ${mine}, semver says otherwise`);
        decided++;
      }
    }
    expect(decided).toBe(versions.length * versions.length * 2);
  });

  it('leaves every other range to semver, with prereleases included', () => {
    for (const range of ['>=0.1.0', '~0.1.0', '0.1.x', '^0.1.0 || ^1.0.0', '=0.1.0', 'v0.1.0', ' ^0.1.0', '^0.1.0-beta.1', '^01.0.0', '*']) {
      expect(simpleSatisfies('0.1.0', range)).toBeUndefined();
      for (const version of ['0.1.0', '0.1.5', '0.2.0', '0.1.1-rc.1', '1.0.0']) {
        expect(engineRangeSatisfied(version, range)).toBe(semver.satisfies(version, range, { includePrerelease: true }));
      }
    }
    expect(simpleSatisfies('0.1.0-rc.1', '^0.1.0')).toBeUndefined();
    expect(engineRangeSatisfied('0.1.1-rc.1', '^0.1.0')).toBe(true);
    expect(engineRangeSatisfied('0.2.0-rc.1', '^0.1.0')).toBe(false);
  });
});
