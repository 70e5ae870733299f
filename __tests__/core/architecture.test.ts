// The shape of core/: no import cycles between its folders (type-only imports count,
// because a cycle of types is still a cycle of meaning), nothing imported from
// plugins/ or tools/, and no Node-only module, since core/ also runs in the browser.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const CORE = path.join(ROOT, 'core');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every module specifier a file names: imports (type-only too), re-exports, dynamic imports. */
function importSpecifiers(source: string): string[] {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  const patterns = [
    /\bimport\s+(?:type\s+)?[\w*{}\s,$]*?\s*from\s*['"]([^'"]+)['"]/g,
    /\bexport\s+(?:type\s+)?(?:\*(?:\s+as\s+\w+)?|\{[^}]*\})\s*from\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bdeclare\s+module\s+['"]([^'"]+)['"]/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) out.push(m[1]);
  return out;
}

/** The node of the folder graph a file belongs to: core/<folder>, core/models/<x>, or core (root files). */
function nodeOf(file: string): string {
  const parts = path.relative(CORE, file).split(path.sep);
  if (parts.length === 1) return 'core';
  if (parts[0] === 'models') return `core/models/${parts[1]}`;
  return `core/${parts[0]}`;
}

const files = tsFiles(CORE);
const imports = files.map((file) => ({ file, specs: importSpecifiers(readFileSync(file, 'utf8')) }));

/** Folder → folders it imports, with one file that shows each edge. */
function folderGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const { file, specs } of imports) {
    const from = nodeOf(file);
    if (!graph.has(from)) graph.set(from, new Map());
    for (const spec of specs) {
      if (!spec.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), spec);
      if (!target.startsWith(CORE + path.sep)) continue;
      const to = nodeOf(target.endsWith('.ts') ? target : target + '.ts');
      if (to !== from && !graph.get(from)!.has(to)) graph.get(from)!.set(to, `${path.relative(ROOT, file)} → '${spec}'`);
    }
  }
  return graph;
}

/** One cycle of the graph as a list of edges, or undefined. */
function findCycle(graph: Map<string, Map<string, string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of [...(graph.get(n)?.keys() ?? [])].sort()) {
      if (state.get(m) === 'open') {
        const cyc = [...stack.slice(stack.indexOf(m)), m];
        return cyc.slice(1).map((to, i) => `${cyc[i]} → ${to} (${graph.get(cyc[i])!.get(to)})`);
      }
      if (!state.has(m)) {
        const found = visit(m);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of [...graph.keys()].sort()) {
    if (state.has(n)) continue;
    const found = visit(n);
    if (found) return found;
  }
  return undefined;
}

describe('the import graph of core/', () => {
  it('reads every kind of import and re-export', () => {
    const src = [
      "import { a } from './x';",
      "import type { B } from '../y';",
      "import * as z from './z';",
      "import './side';",
      "export { c } from './c';",
      "export type { D } from './d';",
      "export * from './e';",
      "const f = await import('./f');",
      "declare module '../g' {}",
      "// import { no } from './commented';",
    ].join('\n');
    expect(importSpecifiers(src)).toEqual(expect.arrayContaining(['./x', '../y', './z', './side', './c', './d', './e', './f', '../g']));
    expect(importSpecifiers(src)).not.toContain('./commented');
  });

  it('finds a cycle when there is one, and names its edges', () => {
    const g = new Map([
      ['core/engine', new Map([['core/plugin', 'a.ts']])],
      ['core/plugin', new Map([['core/engine', 'b.ts']])],
    ]);
    expect(findCycle(g)).toEqual(['core/engine → core/plugin (a.ts)', 'core/plugin → core/engine (b.ts)']);
  });

  it('has no cycle between core folders', () => {
    const graph = folderGraph();
    expect(graph.size).toBeGreaterThan(5);
    expect(findCycle(graph)).toBeUndefined();
  });

  it('imports nothing from plugins/ or tools/', () => {
    const bad = imports.flatMap(({ file, specs }) =>
      specs
        .filter((s) => s.startsWith('.'))
        .map((s) => path.relative(ROOT, path.resolve(path.dirname(file), s)))
        .filter((target) => /^(plugins|tools)([/\\]|$)/.test(target))
        .map((target) => `${path.relative(ROOT, file)} → ${target}`),
    );
    expect(bad).toEqual([]);
  });

  it('uses no Node-only module', () => {
    const nodeOnly = /^(node:|fs$|fs\/|path$|os$|child_process$|worker_threads$|url$|module$|crypto$)/;
    const bad = imports.flatMap(({ file, specs }) => specs.filter((s) => nodeOnly.test(s)).map((s) => `${path.relative(ROOT, file)} → ${s}`));
    expect(bad).toEqual([]);
  });
});
