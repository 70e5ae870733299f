// The host code model on the Node side: runs a guest benchmark once under a
// translator with a register map loaded (which makes the engine keep its units' IR
// and block run counts) and evaluates the run under every register-mapping strategy
// plugin and host profile. The strategies come from their plugins, booted in a
// minimal simulation each; the translated run is the same for all, so every figure
// of a grid compares the strategies on identical code and profile.
// Used by `npm run repro:simd`, `virtlab exec --host` and the trend tests.

import { HOST_PROFILES, hostCodeOf, hostProfile, type GuestInstance, type HostCodeReport } from 'virtlab';
import { resolveEngine } from '../cli/exec';
import { expectedOf, guestPrograms, runGuestCase } from './guests';
import { PROFILES, regmapOf, STRATEGIES } from './regmaps';

export { PROFILES, regmapOf, STRATEGIES };

/**
 * Runs a case of a guest program under dbt.instrew translating basic blocks (so that
 * units are basic blocks, weighted exactly by their runs; the optimizer's passes run), with
 * regmap.memory loaded to switch the host code model on. Throws if the output
 * differs from the recording.
 */
export async function modelledRun(program: string, caseId: string, engineOptions: Record<string, unknown> = {}): Promise<GuestInstance> {
  const p = guestPrograms().find((x) => x.name === program);
  const c = p?.cases.find((x) => x.id === caseId);
  if (!p || !c) throw new Error(`no guest case ${program}.${caseId}`);
  const engine = await resolveEngine('instrew', { region: 'block', ...engineOptions }, [['regmap.memory', {}]]);
  const run = runGuestCase(engine, p, c);
  const expected = expectedOf(p, c);
  if (run.status !== expected.status || !Buffer.from(run.stdout).equals(Buffer.from(expected.stdout))) throw new Error(`${program}.${caseId}: output differs from the recording`);
  if (!hostCodeOf(run.instance)) throw new Error('the engine has no host code model');
  return run.instance;
}

/** Every strategy under every profile, for one run: report[strategy][profile]. */
export async function evaluateGrid(instance: GuestInstance, strategies: readonly string[] = STRATEGIES, profiles: readonly string[] = PROFILES): Promise<Record<string, Record<string, HostCodeReport>>> {
  const out: Record<string, Record<string, HostCodeReport>> = {};
  for (const s of strategies) {
    out[s] = {};
    for (const h of profiles) {
      const regmap = await regmapOf(s, { host: h });
      out[s][h] = hostCodeOf(instance)!(regmap, hostProfile(h));
    }
  }
  return out;
}

export { HOST_PROFILES };
