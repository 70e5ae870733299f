// Covering sets: every t-tuple of axis values appears in some cell, with far fewer
// cells than the full product; exclusion rules are never broken; the set is the same
// on every run; and planning a matrix with many axes stays cheap.
import { coveringRows, matrixCells, readMatrix, shard, type MatrixFile } from '../../../tools/matrix/cells';
import { matrixFile, tempDir } from './helpers';

const tmp = tempDir('covering');
const metrics = 'metrics: { dc.vms: { tolerance: 0 } }\n';

function axesYaml(sizes: number[]): string {
  return `axes:\n${sizes.map((n, i) => `  a${i}: [${Array.from({ length: n }, (_, v) => v).join(', ')}]`).join('\n')}\n`;
}

/** Asserts that every t-tuple of values that the rules allow appears in some row. */
function expectCovered(m: MatrixFile, rows: number[][], t: number): void {
  const k = m.axes.length;
  const combos: number[][] = [];
  const rec = (s: number, acc: number[]): void => {
    if (acc.length === t) combos.push(acc);
    else for (let i = s; i < k; i++) rec(i + 1, [...acc, i]);
  };
  rec(0, []);
  for (const axes of combos) {
    const seen = new Set(rows.map((r) => axes.map((a) => r[a]).join(',')));
    const expected = axes.reduce((n, a) => n * m.axes[a].values.length, 1);
    expect(seen.size).toBe(expected);
  }
}

describe('covering sets', () => {
  it('cover every pair of values with fewer cells than the full product', () => {
    const m = readMatrix(matrixFile(tmp, 'pairs', `${axesYaml([3, 3, 2, 3])}strategy: pairwise\n${metrics}`));
    const { rows } = coveringRows(m, 2);
    expect(rows.length).toBeLessThanOrEqual(11);
    expect(rows.length).toBeLessThan(3 * 3 * 2 * 3);
    expectCovered(m, rows, 2);
  });

  it('cover every triple with 3-wise', () => {
    const m = readMatrix(matrixFile(tmp, 'triples', `${axesYaml([2, 3, 2, 2, 3])}strategy: 3-wise\n${metrics}`));
    const { rows } = coveringRows(m, 3);
    expect(rows.length).toBeLessThan(2 * 3 * 2 * 2 * 3);
    expectCovered(m, rows, 3);
  });

  it('are the same on every run, whatever the strategy seed', () => {
    const body = `${axesYaml([3, 3, 3, 3, 3])}${metrics}`;
    const a = coveringRows(readMatrix(matrixFile(tmp, 's1', `${body}strategy: { t: 2, seed: 1 }\n`)), 2).rows;
    const b = coveringRows(readMatrix(matrixFile(tmp, 's1', `${body}strategy: { t: 2, seed: 1 }\n`)), 2).rows;
    expect(b).toEqual(a);
    const m7 = readMatrix(matrixFile(tmp, 's7', `${body}strategy: { t: 2, seed: 7, candidates: 20 }\n`));
    const c = coveringRows(m7, 2).rows;
    expect(coveringRows(m7, 2).rows).toEqual(c);
    expectCovered(m7, c, 2);
  });

  it('never produce an excluded combination, and count the tuples only excluded cells hold', () => {
    const file = matrixFile(tmp, 'excl', 'axes:\n  a: [1, 2]\n  b: [x, y]\n  c: [u, v]\nstrategy: pairwise\nexclude:\n  - { a: 1, b: y }\nmetrics: { dc.vms: { tolerance: 0 } }\n');
    const { cells, uncoverable } = matrixCells(readMatrix(file));
    expect(cells.some((c) => c.assignment.a === 1 && c.assignment.b === 'y')).toBe(false);
    expect(uncoverable).toBe(1);
    // Every other pair is still there.
    for (const [k1, v1, k2, v2] of [['a', 1, 'c', 'u'], ['a', 2, 'b', 'y'], ['b', 'y', 'c', 'v'], ['a', 1, 'b', 'x']] as const) {
      expect(cells.some((c) => c.assignment[k1] === v1 && c.assignment[k2] === v2)).toBe(true);
    }
  });

  it('see that rules together can forbid a value, and do not offer it', () => {
    const file = matrixFile(tmp, 'rules', 'axes:\n  a: [1, 2]\n  b: [x, y]\n  c: [u, v]\nstrategy: pairwise\nexclude:\n  - { a: 1, b: x }\n  - { a: 1, b: y }\nmetrics: { dc.vms: { tolerance: 0 } }\n');
    const { cells, uncoverable } = matrixCells(readMatrix(file));
    expect(cells.every((c) => c.assignment.a === 2)).toBe(true);
    expect(uncoverable).toBe(4); // (a=1, b=x), (a=1, b=y), (a=1, c=u), (a=1, c=v)
  });

  it('plan a 12-axis matrix without enumerating its half-million-cell product', () => {
    const m = readMatrix(matrixFile(tmp, 'wide', `${axesYaml([3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3])}strategy: pairwise\n${metrics}`));
    // How fast it plans is for a benchmark to say (tools/matrix/bench.ts), not a test.
    const { rows } = coveringRows(m, 2);
    expect(rows.length).toBeLessThanOrEqual(25);
    expectCovered(m, rows, 2);
  });

  it('give every cell a stable id, and split them into disjoint shards', () => {
    const m = readMatrix(matrixFile(tmp, 'ids', `${axesYaml([3, 3, 2])}strategy: full\n${metrics}`));
    const { cells } = matrixCells(m);
    expect(cells).toHaveLength(18);
    expect(new Set(cells.map((c) => c.id)).size).toBe(18);
    expect(matrixCells(m).cells.map((c) => c.id)).toEqual(cells.map((c) => c.id));
    const parts = [1, 2, 3].map((k) => shard(cells, k, 3).map((c) => c.id));
    expect(parts.flat().sort()).toEqual(cells.map((c) => c.id).sort());
  });
});

describe('matrix files', () => {
  it.each([
    ['an unknown key', 'axes: { a: [1] }\nmetric: {}\n', /unknown key 'metric'/],
    ['an exclusion of a value the axis lacks', 'axes: { a: [1, 2] }\nexclude: [{ a: 3 }]\nmetrics: { m: {} }\n', /a=3 is not a value/],
    ['a bad strategy', 'axes: { a: [1] }\nstrategy: sometimes\nmetrics: { m: {} }\n', /strategy must be/],
    ['no metrics', 'axes: { a: [1] }\n', /needs metrics/],
    ['a bad tolerance', 'axes: { a: [1] }\nmetrics: { m: { relative: -1 } }\n', /relative must be a number/],
  ])('refuse %s', (_, body, message) => {
    expect(() => readMatrix(matrixFile(tmp, 'bad', body))).toThrow(message);
  });
});
