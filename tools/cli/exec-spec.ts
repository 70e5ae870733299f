// The synopsis and options of `virtlab exec`, apart from its code so that `virtlab
// --help` lists the command without loading the simulator.

import type { CommandSpec } from './args';

export const EXEC_SPEC: CommandSpec = {
  name: 'exec',
  summary: 'run one RISC-V Linux program the way qemu-riscv64 does',
  usage: ['exec [options] prog.elf [args…]'],
  options: {
    engine: { type: 'string', arg: 'name', description: 'execution engine: interpreter (default), block-translator, instrew, or any cpu.engine plugin' },
    option: { type: 'string', multiple: true, arg: 'name=value', description: 'an option of the engine plugin (YAML value)' },
    plugin: { type: 'string', multiple: true, arg: 'id', description: 'another plugin to load beside the engine (e.g. a translator pass)' },
    stats: { type: 'boolean', description: 'print instructions, MIPS, system calls (by name, unimplemented ones apart) and engine counters to stderr' },
    host: { type: 'string', arg: 'profile', description: 'with --stats and a translating engine: also print the modelled host instruction mix of the run under each register-mapping strategy (regmap.memory, regmap.gpr, regmap.simd) for this host profile (x86-64, x86-64-avx512, aarch64, starved)' },
    mount: { type: 'string', multiple: true, arg: 'host:/guest', description: 'let the guest read a host file at a guest path' },
    env: { type: 'string', multiple: true, arg: 'K=V', description: "set a variable in the guest's environment (also -E K=V; qemu's -E)" },
    'unset-env': { type: 'string', multiple: true, arg: 'K', description: "remove a variable from the guest's environment (also -U K; qemu's -U)" },
    'clear-env': { type: 'boolean', description: "start the guest with an empty environment instead of ours (then --env adds to it)" },
    log: { type: 'string', multiple: true, arg: 'items', description: "qemu-style logging to stderr (also -d): unimp lists the system calls answered ENOSYS" },
    memory: { type: 'string', arg: 'size', description: 'guest memory (default 256MiB)' },
    'max-instructions': { type: 'string', arg: 'n', description: 'stop after n instructions, exit status 124 (default 0: no limit)' },
    seed: { type: 'string', arg: 'n', description: 'seed of the bytes getrandom returns (default 1)' },
    'background-compile': { type: 'boolean', description: 'translate on a worker thread (lifting, passes, encoding, compiling) while the guest runs on, interpreted (pays only with an idle core; by default code is translated on the guest\'s thread)' },
    'no-code-cache': { type: 'boolean', description: 'neither read nor write the persistent translation cache (also VIRTLAB_CODE_CACHE=off; VIRTLAB_CODE_CACHE=<folder> moves it)' },
  },
  examples: ['virtlab exec --engine instrew --stats scenarios/guests/bin/crc32.elf 2'],
  notes:
    "Standard input, output and error pass through; the guest's exit status becomes ours (128 + signal when it is killed). " +
    'Like qemu-user, the guest inherits our environment unless --clear-env is given; -E/--env and -U/--unset-env edit it. ' +
    'Nothing but the guest writes to its stderr unless --stats or -d unimp is given.',
};
