// `virtlab exec --stats --host <profile>`: the modelled host instruction mix of the run
// under each register-mapping strategy, and clear errors for a bad profile, a missing
// --stats or an engine that does not translate.
import { execCommand, ExecUsageError, type ExecIo } from '../../tools/cli/exec';

const SORT = 'scenarios/guests/bin/sort.elf';

async function run(args: string[]) {
  const err: string[] = [];
  const io: ExecIo = { readStdin: () => null, writeStdout: () => true, writeStderr: () => true, err: (l) => err.push(l) };
  const code = await execCommand(args, io, {});
  return { code, err };
}

describe('virtlab exec --host', () => {
  it('prints the modelled host instruction mix per strategy', async () => {
    const r = await run(['--engine', 'instrew', '--option', 'region=block', '--stats', '--host', 'starved', SORT, '500']);
    expect(r.code).toBe(0);
    const lines = (id: string) => r.err.find((l) => l.startsWith(`virtlab stats: ${id} on starved:`));
    for (const id of ['regmap.memory', 'regmap.gpr', 'regmap.simd']) expect(lines(id)).toMatch(/host instructions and [0-9.]+ cycles per guest instruction/);
    expect(lines('regmap.memory')).toMatch(/ load=\d+/);
    expect(lines('regmap.memory')).not.toMatch(/laneExtract/);
    expect(lines('regmap.simd')).toMatch(/laneExtract=\d+/);
  });

  it('refuses a bad profile, a missing --stats and the interpreter', async () => {
    await expect(run(['--engine', 'instrew', '--stats', '--host', 'vax', SORT])).rejects.toThrow(/--host: unknown host profile 'vax'/);
    await expect(run(['--engine', 'instrew', '--host', 'x86-64', SORT])).rejects.toThrow(ExecUsageError);
    await expect(run(['--stats', '--host', 'x86-64', SORT])).rejects.toThrow(/translating engine/);
  });
});
