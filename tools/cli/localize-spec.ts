// The synopsis and options of `virtlab localize`, apart from its code so that
// `virtlab --help` lists the command without loading the simulator.

import type { CommandSpec } from './args';

export const LOCALIZE_SPEC: CommandSpec = {
  name: 'localize',
  summary: 'find the pass and rule of the optimizing translator that miscompile a guest program',
  usage: ['localize [options] prog.elf [args…]'],
  options: {
    engine: { type: 'string', arg: 'name', description: 'the optimizing engine to test against the interpreter (default instrew)' },
    option: { type: 'string', multiple: true, arg: 'name=value', description: "an option of the engine plugin (YAML value), e.g. inject=[rle:width-alias]; hotThreshold defaults to 0 (translate on first execution)" },
    plugin: { type: 'string', multiple: true, arg: 'id', description: 'another plugin to load beside the engine, e.g. a pass of your own' },
    'plugin-path': { type: 'string', multiple: true, arg: 'dir', description: 'a folder to find plugins in (searched recursively), for --plugin' },
    variants: { type: 'string', arg: 'n', description: 'variants of the failing unit to generate (default 40)' },
    seed: { type: 'string', arg: 'n', description: 'seed of the mutations (default 1)' },
    'max-instructions': { type: 'string', arg: 'n', description: 'instructions one run may take (default 20000000)' },
    out: { type: 'string', arg: 'file', description: 'the report file (default localize-<program>.txt in the current folder); the JSON record goes beside it (.json)' },
    quiet: { type: 'boolean', description: 'print no progress lines' },
  },
  examples: ['virtlab localize --option inject=[fold:shift-mask] --out /tmp/shift.txt prog.elf'],
  notes:
    'Runs the program under the engine and under the interpreter, finds where they part (registers, memory, output) and the translation unit that did it, ' +
    'mutates that unit into variants, records what every pass on hooks.cpu.optimizeUnit did and which rules it fired, then delta-debugs the passes and their rules and ranks them (Ochiai). ' +
    'Exit status: 0 no divergence, 1 a divergence (localized in the report), 2 bad input.',
};
