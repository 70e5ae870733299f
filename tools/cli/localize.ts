// `virtlab localize`: from one guest program that the optimizing translator runs
// wrongly, the guilty pass and rewrite rule (tools/jitloc/localize.ts does the work).
// Options end at the program path, as for exec: what follows it is the guest's
// arguments.

import { existsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { limits } from 'virtlab';
import { formatReport, localize } from '../jitloc/localize';
import { readHostFile } from '../node/host-file';
import { commandHelp, parseAssignment, usageFrom, wantsHelp, UsageError } from './args';
import { LOCALIZE_SPEC } from './localize-spec';

export { LOCALIZE_SPEC };

export interface LocalizeIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

function wholeNumber(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = /^[0-9]+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`${flag} expects a whole number, got '${text}'`, `see virtlab localize --help`);
  return n;
}

export async function localizeCommand(rest: string[], io: LocalizeIo): Promise<number> {
  const takesValue = Object.entries(LOCALIZE_SPEC.options)
    .filter(([, o]) => o.type === 'string')
    .map(([k]) => `--${k}`);
  const firstPositional = rest.findIndex((a, i) => !a.startsWith('-') && !takesValue.includes(rest[i - 1]));
  const own = firstPositional < 0 ? rest : rest.slice(0, firstPositional);
  const guest = firstPositional < 0 ? [] : rest.slice(firstPositional);
  if (wantsHelp(own)) {
    io.out(commandHelp(LOCALIZE_SPEC));
    return 0;
  }
  let values: Record<string, unknown>;
  try {
    const options = Object.fromEntries(Object.entries(LOCALIZE_SPEC.options).map(([k, o]) => [k, o.multiple ? { type: o.type, multiple: true } : { type: o.type }]));
    ({ values } = parseArgs({ args: own, options, strict: true }) as { values: Record<string, unknown> });
  } catch (e) {
    throw usageFrom(e as Error, LOCALIZE_SPEC);
  }
  if (!guest.length) throw new UsageError('localize needs a program', 'virtlab localize [--engine instrew] [--option name=value]… [--plugin id]… prog.elf [args…]');
  const [program, ...args] = guest;
  if (!existsSync(program)) throw new UsageError(`no such program: ${program}`);
  if (statSync(program).isDirectory()) throw new UsageError(`${program} is a folder, not a program`, 'give the path of a RISC-V ELF file');
  const engineOptions: Record<string, unknown> = {};
  for (const kv of (values.option as string[] | undefined) ?? []) {
    const { path: name, value } = parseAssignment('--option', kv, 'inject=[rle:width-alias]', 'name=value');
    engineOptions[name] = value;
  }
  const pluginPaths = ((values['plugin-path'] as string[] | undefined) ?? []).map((d) => path.resolve(d));
  for (const d of pluginPaths) if (!existsSync(d)) throw new UsageError(`--plugin-path: no such folder ${d}`);
  const out = path.resolve((values.out as string | undefined) ?? `localize-${path.basename(program).replace(/\.[^.]*$/, '')}.txt`);
  let elf: Uint8Array;
  try {
    elf = readHostFile(program, limits.MAX_HOST_FILE_BYTES, 'program');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const report = await localize({
    elf,
    programPath: program,
    args,
    engine: (values.engine as string | undefined) ?? 'instrew',
    engineOptions,
    plugins: (values.plugin as string[] | undefined) ?? [],
    pluginPaths,
    variants: wholeNumber('--variants', values.variants as string | undefined, 40),
    seed: wholeNumber('--seed', values.seed as string | undefined, 1),
    maxInstructions: wholeNumber('--max-instructions', values['max-instructions'] as string | undefined, 20_000_000),
    log: values.quiet ? undefined : (line) => io.err(`localize: ${line}`),
  });
  const text = formatReport(report);
  writeFileSync(out, text);
  writeFileSync(out.replace(/(\.txt)?$/, '.json'), JSON.stringify(report, null, 1) + '\n');
  io.out(text.trimEnd());
  io.out(`\nreport: ${out}`);
  return report.diverged ? 1 : 0;
}
