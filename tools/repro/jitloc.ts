// The JIT bug-localization reproduction table (`npm run repro:jitloc`), after Lim and
// Debray: for each bug that dbt.instrew's `inject` option puts into a pass, for a
// third-party pass plugin with a bug of its own (copied from the test fixtures into a
// temporary folder, outside the repository), and for two bugs at once, the guest
// program that exposes it is localized by tools/jitloc/localize.ts, and the table
// gives the guilty pass and rule found, the pass's Ochiai rank, the runs needed and
// the variants generated. Two more rows take a real program compiled by gcc
// (scenarios/guests/bin/crc32.elf) with the injected bugs its code triggers. The paper
// names the buggy phase of each of its V8 cases; here the expected pass and rule are
// known, so a row says whether it was found.

import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { INJECTED, strengthGuest, twoBugGuest } from '../jitloc/guests';
import { localize, type LocalizeOptions } from '../jitloc/localize';

interface Case {
  readonly name: string;
  readonly expected: ReadonlyArray<readonly [string, string]>;
  readonly options: LocalizeOptions;
}

async function main(): Promise<void> {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'virtlab-jitloc-'));
  try {
    cpSync(path.join(__dirname, '..', '..', '__tests__', 'fixtures', 'jitloc-plugins', 'strength'), path.join(folder, 'strength'), { recursive: true });
    const cases: Case[] = [
      ...INJECTED.map((b) => ({ name: b.inject, expected: [[b.pass, b.rule]] as const, options: { elf: b.guest(), programPath: `${b.inject}.elf`, engineOptions: { inject: [b.inject] } } })),
      { name: 'third-party research.strength', expected: [['research.strength/strength', 'mul-neg-pow2']], options: { elf: strengthGuest(), programPath: 'strength.elf', plugins: ['research.strength'], pluginPaths: [folder] } },
      {
        name: 'fold:imm-sign + rle:width-alias',
        expected: [['dbt.instrew/fold', 'add-chain'], ['dbt.instrew/rle', 'load-load']],
        options: { elf: twoBugGuest(), programPath: 'two.elf', engineOptions: { inject: ['fold:imm-sign', 'rle:width-alias'] } },
      },
      ...(['fold:imm-sign', 'dce:cross-unit-store'] as const).map((inject) => ({
        name: `crc32.elf (gcc) with ${inject}`,
        expected: [[INJECTED.find((b) => b.inject === inject)!.pass, INJECTED.find((b) => b.inject === inject)!.rule]] as const,
        options: { elf: readFileSync(path.join(__dirname, '..', '..', 'scenarios', 'guests', 'bin', 'crc32.elf')), programPath: 'crc32.elf', args: ['2'], engineOptions: { inject: [inject] }, variants: 20 },
      })),
    ];
    const rows: string[][] = [];
    for (const c of cases) {
      const r = await localize(c.options);
      const found = c.expected.map(([pass, rule]) => {
        const g = r.guilty.find((x) => x.pass === pass);
        return { pass, rule, ok: !!g && g.rules.includes(rule), rank: r.ranking.passes.find((p) => p.name === pass)?.rank };
      });
      const innocentBest = Math.min(...r.ranking.passes.filter((p) => !c.expected.some(([pass]) => pass === p.name)).map((p) => p.rank));
      rows.push([
        c.name,
        r.guilty.map((g) => `${g.pass} / ${g.rules.join(', ') || '—'}`).join('; ') || 'none',
        found.map((f) => `${f.rank ?? '—'}`).join(', '),
        `${innocentBest}`,
        found.every((f) => f.ok) ? 'yes' : 'NO',
        `${r.runs.total}`,
        `${r.variants.generated} (${r.variants.failing} fail, ${r.variants.passing} pass)`,
      ]);
    }
    const head = ['bug', 'guilty pass / rule found', 'rank', 'best innocent rank', 'right?', 'runs', 'variants'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
    console.log('JIT bug localization (Lim and Debray) on dbt.instrew: the oracle is dbt.interpreter');
    console.log('paper: the buggy phase named in its V8/TurboFan cases; here: the injected pass and rule, with the runs it took\n');
    console.log(line(head));
    console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
    for (const r of rows) console.log(line(r));
    console.log('\nrank: Ochiai rank of the guilty pass(es) (ties share a rank); runs: executions of the guest under one engine,');
    console.log('for the divergence, the failing units, the variants, delta debugging and minimization together.');
    console.log('Real bug met along the way: the bisection showed translated code retiring one instruction past its budget');
    console.log('when a unit used the whole budget and exited to the interpreter (a system call); fixed in core/models/dbt/runtime.ts.');
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

void main();
