// Every guest program, under every execution engine, gives exactly the output and
// exit status recorded under qemu-riscv64 (benchmarks in every case but their default, `bench`, input).
import { ExecutionEngine } from 'virtlab';
import { resolveEngine } from '../../tools/cli/exec';
import { loadCatalog } from '../../tools/node/catalog';
import { expectedOf, guestPrograms, runGuestCase } from '../../tools/node/guests';

const engines = loadCatalog().providersOf('cpu.engine');
const cases = guestPrograms().flatMap((p) => p.cases.filter((c) => p.kind === 'test' || c.id !== 'bench').map((c) => [p, c] as const));
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe.each(engines)('guest programs under %s', (engineId) => {
  let engine: ExecutionEngine;
  beforeAll(async () => {
    engine = await resolveEngine(engineId);
  });

  it.each(cases.map(([p, c]) => [`${p.name}.${c.id}`, p, c] as const))('%s matches qemu-riscv64', (_name, program, c) => {
    const run = runGuestCase(engine, program, c);
    const expected = expectedOf(program, c);
    expect(text(run.stdout)).toBe(text(expected.stdout));
    if (c.compareStderr !== false) expect(text(run.stderr)).toBe(text(expected.stderr));
    expect(run.status).toBe(expected.status);
  });
});

it('finds at least the interpreter among the engines', () => {
  expect(engines).toContain('dbt.interpreter');
});
