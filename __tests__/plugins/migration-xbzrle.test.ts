// migration.xbzrle as a real cache: an LRU of the pages last sent, keyed by page. A
// larger cache hits more and sends fewer bytes; a delta's size follows what the page
// holds, so a VM of random content gains nothing from hits; hits and misses are
// counted, over exactly the pages re-sent after the full copy.
//
// Mutations that must break these tests (each checked once): a cache sized by the VM
// instead of cacheSize, so that it never evicts (the cache-size trend fails); a delta
// size that ignores the page class (the random-content test fails).
import { MigrationService, type ScenarioBuilder } from 'virtlab';
import { PageLru } from '../../plugins/migration/xbzrle/index';
import { runText, scenarioFile } from '../../tools/node/testing';

describe('PageLru', () => {
  it('keeps the most recently sent pages and evicts the least recent', () => {
    const c = new PageLru(3);
    for (const p of [1, 2, 3]) expect(c.touch(p)).toBe(false);
    expect(c.touch(1)).toBe(true); // 1 is now the most recent; 2 the least
    expect(c.touch(4)).toBe(false); // evicts 2
    expect(c.has(2)).toBe(false);
    expect([1, 3, 4].every((p) => c.has(p))).toBe(true);
    expect(c.used).toBe(3);
  });
});

// The AdaMig case under plain pre-copy with a dirty rate that converges slowly.
const base = scenarioFile('scenarios/repro/adamig.scenario.yaml').withoutPlugin('migration.adamig').noExpectations().duration('12min').tick('100ms').workload('vm', { writesPerSecond: 2000 });
const xbzrle = (s: ScenarioBuilder, cacheSize: string) => s.plugin('migration.xbzrle', { cacheSize }, { before: 'migration.schedule' });

async function migrate(s: ScenarioBuilder) {
  const { sim, result } = await runText(s);
  const m = JSON.parse(result.files.get('migrations.json')!)[0];
  const rec = sim.services.get(MigrationService).all()[0];
  // Pages sent after the full copy: the later rounds, and the stop-and-copy.
  const resent = rec.rounds.slice(1).reduce((n, r) => n + r.pages, 0) + rec.roundPages;
  return { m, resent, hits: sim.metrics.value('migration.xbzrle.hits') ?? 0, misses: sim.metrics.value('migration.xbzrle.misses') ?? 0 };
}

describe('migration.xbzrle', () => {
  it('hits more and sends fewer bytes with a larger cache, counting every re-sent page', async () => {
    const plain = await migrate(base);
    const small = await migrate(xbzrle(base, '8MiB'));
    const large = await migrate(xbzrle(base, '1GiB'));
    for (const r of [plain, small, large]) expect(r.m.success).toBe(true);
    expect(large.hits / (large.hits + large.misses)).toBeGreaterThan(small.hits / (small.hits + small.misses));
    expect(large.m.bytesSent).toBeLessThan(small.m.bytesSent);
    expect(small.m.bytesSent).toBeLessThanOrEqual(plain.m.bytesSent);
    // Every page re-sent after the full copy went through the cache (lists are an expectation: within 2%).
    expect(large.hits + large.misses).toBeGreaterThan(large.resent * 0.98);
    expect(large.hits + large.misses).toBeLessThan(large.resent * 1.02);
  });

  it('gains nothing on pages of random content, whose deltas overflow', async () => {
    const random = base.workload('vm', { pageClasses: { random: 1 } });
    const plain = await migrate(random);
    const cached = await migrate(xbzrle(random, '1GiB'));
    expect(cached.hits).toBeGreaterThan(0);
    expect(cached.m.bytesSent).toBeCloseTo(plain.m.bytesSent, -3);
  });
});
