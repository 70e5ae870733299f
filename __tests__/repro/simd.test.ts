// The SIMD register-mapping reproduction's trends, from the host code model over real
// guest benchmark runs (npm run repro:simd prints the figures): regmap.simd gains more
// over QEMU's memory mapping the fewer integer registers the host has; pinning guest
// registers in integer registers (regmap.gpr) wins on a host with many of them and
// loses that lead to lanes as they shrink; on FP code, host FP instructions on the
// SIMD registers beat QEMU's softfloat helper calls; and the model only observes — the
// code that runs, and so its output and counters, are the same with or without it.
// Each test names the mutation of the mechanism that must break it.
import { resolveEngine } from '../../tools/cli/exec';
import { guestPrograms, runGuestCase } from '../../tools/node/guests';
import { evaluateGrid, modelledRun } from '../../tools/node/hostcode';

const INTEGER = ['sort', 'matmul-int'];
const FP = ['nbody', 'matmul-double'];
const geomean = (xs: number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);

async function grids() {
  const out: Record<string, Awaited<ReturnType<typeof evaluateGrid>>> = {};
  for (const name of [...INTEGER, ...FP]) out[name] = await evaluateGrid(await modelledRun(name, 'small'));
  return out;
}

describe('the SIMD register-mapping reproduction', () => {
  let g: Awaited<ReturnType<typeof grids>>;
  beforeAll(async () => {
    g = await grids();
  }, 120_000);
  const speedup = (strategy: string, host: string, over = 'regmap.memory', of = [...INTEGER, ...FP]) => geomean(of.map((b) => g[b][over][host].cycles / g[b][strategy][host].cycles));

  // Mutation that must break it: an allocator that never spills (the starved host then costs what x86-64 does).
  it("regmap.simd's gain over regmap.memory grows as the host's integer registers shrink", () => {
    expect(speedup('regmap.simd', 'starved')).toBeGreaterThan(speedup('regmap.simd', 'x86-64'));
    expect(speedup('regmap.simd', 'x86-64')).toBeGreaterThanOrEqual(speedup('regmap.simd', 'aarch64'));
    // The memory mapping itself spills on the starved host, not on the widest one.
    for (const x of Object.values(g)) expect(x['regmap.memory'].aarch64.spills).toBe(0);
    expect(Object.values(g).some((x) => x['regmap.memory'].starved.spills > 0)).toBe(true);
  });

  // Mutation that must break it: free lane moves (lane extracts and inserts at no cost).
  // (On integer code: regmap.gpr keeps FP registers in memory, so on FP code its helper calls decide.)
  it('pinned integer registers beat lanes on a wide host, and lanes close the gap as integer registers shrink', () => {
    const simdOverGpr = (h: string) => speedup('regmap.simd', h, 'regmap.gpr', INTEGER);
    expect(simdOverGpr('aarch64')).toBeLessThan(1);
    expect(simdOverGpr('x86-64')).toBeGreaterThan(simdOverGpr('aarch64'));
    expect(simdOverGpr('starved')).toBeGreaterThan(simdOverGpr('x86-64'));
    for (const b of INTEGER) expect(g[b]['regmap.simd'].aarch64.counts.laneExtract).toBeGreaterThan(0);
  });

  // Mutation that must break it: softfloat helper calls at no cost (fpHelper and softfloat classes free), or
  // regmap.simd without host FP (its FP operations helper calls too).
  it('host FP instructions on the SIMD registers beat QEMU\'s softfloat helper calls on FP code, more so as integer registers shrink', () => {
    for (const h of ['aarch64', 'x86-64', 'starved']) {
      expect(speedup('regmap.simd', h, 'regmap.memory', FP)).toBeGreaterThan(1);
      expect(speedup('regmap.simd', h, 'regmap.memory', FP)).toBeGreaterThan(speedup('regmap.simd', h, 'regmap.memory', INTEGER));
    }
    expect(speedup('regmap.simd', 'starved', 'regmap.memory', FP)).toBeGreaterThan(speedup('regmap.simd', 'aarch64', 'regmap.memory', FP));
    // QEMU's mapping calls softfloat for every FP operation; regmap.simd for none of these benchmarks'.
    for (const b of FP) {
      expect(g[b]['regmap.memory']['x86-64'].counts.fpHelper).toBeGreaterThan(0);
      expect(g[b]['regmap.simd']['x86-64'].counts.fpHelper + g[b]['regmap.simd']['x86-64'].counts.softfloat).toBe(0);
    }
  });

  // The modelled run adds only a run counter to each unit's block: same units, same control flow.
  it('observes without changing the translated code', async () => {
    const p = guestPrograms().find((x) => x.name === 'sort')!;
    const c = p.cases.find((x) => x.id === 'small')!;
    const plain = runGuestCase(await resolveEngine('instrew', { region: 'block' }), p, c).instance.counters();
    const modelled = (await modelledRun('sort', 'small')).counters();
    for (const k of ['units', 'modules', 'guestInstructionsTranslated', 'unitsEntered', 'chainHits', 'interpreted']) expect(modelled[k]).toBe(plain[k]);
    expect(modelled.hostBytes).toBeGreaterThan(plain.hostBytes);
    expect(plain.hostCycles).toBeUndefined();
    expect(modelled.hostCycles).toBeGreaterThan(0);
  });

  // Mutation that must break it: weighing a unit by its entries instead of its block's runs (a block that
  // branches to itself runs many times per entry), or units that are not single basic blocks.
  it('weighs every translated block by how often it ran: modelled and interpreted guest instructions are all retired', async () => {
    for (const name of ['crc32', 'matmul-int']) {
      const run = await modelledRun(name, 'small');
      const c = run.counters();
      expect(c.hostGuestInstructions + c.interpreted).toBe(run.instructions);
    }
  });
});
