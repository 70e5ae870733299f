// The Instrew reproduction's mechanisms, from the translators' own counters (their
// speed is measured by `npm run bench:dbt`, never by a test): the optimizing
// translator crosses unit boundaries far less often than the block translator, maps
// guest calls to host calls whose returns come back where expected, keeps registers
// in locals, and — translating every region on first execution, as Instrew does —
// translates much of a cold program that runs once, where tiering translates little.
//
// Mutations of the mechanism that must break it (each checked once; the comment above
// each test says which assertion fails): regions cut at every basic block (maxBlocks
// forced to 1); the call's returned pc compared with the wrong return address; register
// promotion ignored; the shared exit dropping the return's exit code; region formation ignoring installed regions' entries, or stopping at
// any code they hold past their entries; regions never closing loops, taking the cases
// of a closing block's indirect jump along, or copying a small switch's jump; eager mode tiering anyway.
import { resolveEngine } from '../../tools/cli/exec';
import { guestPrograms, runGuestCase } from '../../tools/node/guests';

const program = (name: string) => guestPrograms().find((p) => p.name === name)!;
async function counters(engine: string, name: string, options: Record<string, unknown> = {}): Promise<Record<string, number>> {
  const p = program(name);
  const run = runGuestCase(await resolveEngine(engine, options), p, p.cases.find((c) => c.id === 'small')!);
  return { ...run.instance.counters(), instructions: run.instructions };
}

describe('the Instrew reproduction', () => {
  // Breaks if regions are cut at every basic block (index.ts's maxBlocks forced to 1):
  // instrew then enters a unit about as often per instruction as the block translator.
  it('crosses unit boundaries far less often per instruction than the block translator', async () => {
    for (const name of ['crc32', 'sort', 'bytecode']) {
      const block = await counters('block-translator', name);
      const instrew = await counters('instrew', name);
      // Every block boundary is a unit boundary for the block translator; regions keep loops inside.
      expect(block.unitsEntered / block.instructions).toBeGreaterThan(0.01);
      expect(instrew.unitsEntered / instrew.instructions).toBeLessThan((block.unitsEntered / block.instructions) / 5);
      // Chaining keeps the block translator's transfers out of the dispatcher loop.
      const unchained = await counters('block-translator', name, { chain: false });
      expect(unchained.dispatcherEntries).toBeGreaterThan(10 * block.dispatcherEntries);
      expect(block.chainHits + block.lookupHits).toBeGreaterThan(10 * block.dispatcherEntries);
    }
  });

  // Breaks if the returned pc is checked against the wrong return address (emit.ts,
  // the call's EXIT_LOOKUP compare), or if a unit's shared exit leaves without the
  // return's exit code (emit-exits.ts's leave setting no code for EXIT_RET): every
  // return then misses and returnHits is 0.
  it('maps recursive guest calls to host calls whose returns almost always hit', async () => {
    const c = await counters('instrew', 'sort', { hotThreshold: 0 });
    expect(c.hostCalls).toBeGreaterThan(1000);
    expect(c.returnHits / c.hostCalls).toBeGreaterThan(0.9);
    const unmapped = await counters('instrew', 'sort', { hotThreshold: 0, mapCalls: false });
    expect(unmapped.hostCalls).toBe(0);
  });

  // Breaks if promotion is ignored (the emitter keeps every register in memory: the count is 0).
  it('promotes register accesses to locals only when asked', async () => {
    // crc32's hot loop and its callers alone read and write dozens of registers (each translated once).
    expect((await counters('instrew', 'crc32')).registerAccessesPromoted).toBeGreaterThan(30);
    expect((await counters('instrew', 'crc32', { promoteRegisters: false })).registerAccessesPromoted).toBe(0);
  });

  // Breaks if region formation ignores the entries of installed regions (region.ts's
  // `installed` check): the regions that side exits start then translate the same large
  // function again and again (lz4's compressor). And breaks if regions stop at code
  // installed regions hold past their entries (`installed` answering for every covered
  // pc): a hot loop is then cut into one-block regions, entered about 3 times as often.
  it('translates large programs far less than regions following every edge, and keeps their hot loops whole', async () => {
    const profiled = await counters('instrew', 'lz4-tool');
    const unprofiled = await counters('instrew', 'lz4-tool', { profileRegions: false });
    expect(profiled.instructions).toBe(unprofiled.instructions);
    expect(profiled.guestInstructionsTranslated).toBeLessThan(unprofiled.guestInstructionsTranslated / 3);
    // No more than the block translator, which translates each executed block (with overlaps).
    const block = await counters('block-translator', 'lz4-tool');
    expect(profiled.guestInstructionsTranslated).toBeLessThan(block.guestInstructionsTranslated);
    // Units entered per instruction: every block boundary for the block translator.
    expect(profiled.unitsEntered / profiled.instructions).toBeLessThan(block.unitsEntered / block.instructions / 6);
  });

  // Breaks if regions never close loops (region.ts's loopBack answering null): the
  // entries and chain hits then equal those without closeLoops. And breaks if code
  // taken to close a loop brings its indirect jump's cases along (the jump-table
  // targets of SQLite's bytecode dispatch, pulled in past the caps): SQLite then
  // translates about twice as much.
  it('closes loops cut by the caps or by other regions inside one unit, for little more translation', async () => {
    for (const name of ['sqlite-shell', 'lz4-tool']) {
      const closed = await counters('instrew', name, { closeLoops: 64 });
      const open = await counters('instrew', name);
      expect(closed.instructions).toBe(open.instructions);
      expect(closed.unitsEntered).toBeLessThan(0.85 * open.unitsEntered);
      expect(closed.chainHits).toBeLessThan(0.7 * open.chainHits);
      expect(closed.guestInstructionsTranslated).toBeLessThan(1.5 * open.guestInstructionsTranslated);
    }
    // A small switch stays inside the region that holds its cases: a copy of its jump
    // elsewhere would reach them only through the dispatcher's lookup. Breaks if any
    // indirect jump ends the code taken (region.ts's FEW_CASES test dropped): the
    // bytecode interpreter's dispatch then looks up about 10 times as often.
    const closed = await counters('instrew', 'bytecode', { closeLoops: 64 });
    const open = await counters('instrew', 'bytecode');
    expect(closed.lookupHits).toBeLessThan(1.2 * open.lookupHits + 100);
  });

  // Breaks if eager mode tiers anyway (hotThreshold 0 read as the default 50): the
  // eager run then translates no more of the cold program than the tiered one.
  it('translates a large share of a cold program when eager, and little when tiered', async () => {
    const eager = await counters('instrew', 'cold-code', { hotThreshold: 0 });
    const tiered = await counters('instrew', 'cold-code');
    const hot = await counters('instrew', 'crc32', { hotThreshold: 0 });
    // Translated instructions per executed instruction: the translation cost's share.
    const share = (c: Record<string, number>) => c.guestInstructionsTranslated / c.instructions;
    expect(share(eager)).toBeGreaterThan(10 * share(tiered));
    expect(share(eager)).toBeGreaterThan(100 * share(hot));
  });
});
