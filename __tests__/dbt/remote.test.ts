// Translation away from the guest's thread (core/models/dbt/remote.ts, the runtime's
// `translator` option, tools/node/background-translator.ts): lifting, the passes,
// encoding and compiling run in a translation server over a mirror of the guest's
// code, and the guest is interpreted until a translation arrives. Nothing the guest
// sees may depend on when that is.
//
// Most cases run the server in this thread behind a stand-in that hands each reply
// out a pseudo-random number of polls late, so that every machine, however busy,
// takes the same paths; one case runs the real worker thread with and without an
// extra random delay per translation (a loaded machine).
//
// Mutations that must break this file, each checked once:
// - installing a reply without checking its guest bytes (takeReply's mismatchedBytes
//   test always false): smc runs a translation of code it has rewritten, and its
//   output differs (the refused-on-arrival case);
// - believing a server's "nothing to translate here" without checking the bytes it
//   saw (`same` always true): with a stale mirror no unit is ever installed;
// - not applying the numbering of a reply that is refused (its exits skipped): the
//   runtime and the server fall out of step, and the run throws;
// - the server not treating a pc covered by a reply on its way as covered (coveredBy
//   ignored): crc32 translates more than twice the units it does here;
// - the report leaving out the server's pass counters: foldFolded is absent.
import { remoteTranslatorOf, TranslationServer, type BackgroundTranslator, type ExecutionEngine, type RemoteInit, type RemoteReply, type RemoteRequest } from '../../core';
import { resolveEngine } from '../../tools/cli/exec';
import { WorkerTranslator } from '../../tools/node/background-translator';
import { expectedOf, guestPrograms, runGuestCase, type GuestRun, type GuestRunExtras } from '../../tools/node/guests';

const BUDGET = 9_973;

/**
 * The server in this thread. It says it is ready at the runtime's `readyAfter`th
 * question (the runtime translates on its own thread until then), and hands reply n
 * out on the (base + n·7 mod 5)th poll after its request.
 */
class LateTranslator implements BackgroundTranslator {
  server: TranslationServer | undefined;
  private polls = 0;
  private asked = 0;
  private readonly queue: Array<{ reply: RemoteReply; at: number }> = [];
  requests = 0;

  /** `engine`: booted apart from the guest's, as the worker's is, so that its plugin's state (pass counters) is its own. */
  constructor(
    private readonly engine: ExecutionEngine,
    private readonly onStart: (server: TranslationServer) => void = () => {},
    private readonly base = 2,
    private readonly readyAfter = 0,
  ) {}

  boot(): void {}

  ready(): boolean {
    return ++this.asked > this.readyAfter;
  }

  start(init: RemoteInit): void {
    this.server = new TranslationServer(remoteTranslatorOf(this.engine)!, init);
    this.onStart(this.server);
  }

  submit(request: RemoteRequest): void {
    this.requests++;
    // Handled now, from the state the request describes; delivered later.
    this.queue.push({ reply: this.server!.handle(request), at: this.polls + this.base + ((request.ticket * 7) % 5) });
  }

  poll(): RemoteReply[] {
    this.polls++;
    const out: RemoteReply[] = [];
    // In order, as a worker's replies come.
    while (this.queue.length && this.queue[0].at <= this.polls) out.push(this.queue.shift()!.reply);
    return out;
  }
}

function caseOf(name: string, caseId: string) {
  const program = guestPrograms().find((p) => p.name === name)!;
  return { program, c: program.cases.find((x) => x.id === caseId)! };
}

function run(engine: ExecutionEngine, name: string, caseId: string, extras: GuestRunExtras = {}): { run: GuestRun; stops: number[] } {
  const { program, c } = caseOf(name, caseId);
  const stops: number[] = [];
  return { run: runGuestCase(engine, program, c, 0, BUDGET, { ...extras, stops }), stops };
}

const text = (b: Uint8Array) => Buffer.from(b).toString();

const CASES: Array<[string, string]> = [
  ['crc32', 'small'],
  ['cold-code', 'small'],
  ['smc', 'default'],
  ['int-edge', 'default'],
  ['bytecode', 'small'],
];
const ENGINES: Array<[string, Record<string, unknown>]> = [
  ['instrew', { hotThreshold: 0 }],
  ['instrew', {}],
  ['block-translator', {}],
];

describe.each(ENGINES)('%s %j translating remotely', (engineName, options) => {
  it.each(CASES)('%s.%s: same output, status and instruction counts as translating here', async (name, caseId) => {
    const engine = await resolveEngine(engineName, options);
    const { program, c } = caseOf(name, caseId);
    const here = run(engine, name, caseId);
    expect(text(here.run.stdout)).toBe(text(expectedOf(program, c).stdout));
    // The first translation is made here, while the server "boots".
    const late = new LateTranslator(await resolveEngine(engineName, options), undefined, 2, 1);
    const there = run(engine, name, caseId, { backgroundTranslator: late });
    expect(text(there.run.stdout)).toBe(text(here.run.stdout));
    expect(there.run.status).toBe(here.run.status);
    expect(there.stops).toEqual(here.stops);
    const k = there.run.instance.counters();
    // The translations after the first were made there and installed here (cold-code
    // under a hot threshold has one translation in all).
    if (here.run.instance.counters().lookupMisses > 1) {
      expect(late.requests).toBeGreaterThan(0);
      expect(k.backgroundModules).toBeGreaterThan(0);
    }
    expect(k.units).toBeGreaterThan(0);
    expect(k.backgroundTranslateMs).toBeGreaterThanOrEqual(0);
    if (name === 'crc32') {
      // Pcs reached while their region was on its way get no translation of their own.
      expect(k.units).toBeLessThanOrEqual(2 * here.run.instance.counters().units);
    }
  });
});

describe('code rewritten while its translation was on its way', () => {
  it('is refused on arrival, and the new code runs', async () => {
    const engine = await resolveEngine('instrew', { hotThreshold: 0 });
    const { program, c } = caseOf('smc', 'default');
    // Each translation some 50 blocks late: smc rewrites code meanwhile.
    const there = run(engine, 'smc', 'default', { backgroundTranslator: new LateTranslator(await resolveEngine('instrew', { hotThreshold: 0 }), undefined, 50) });
    expect(text(there.run.stdout)).toBe(text(expectedOf(program, c).stdout));
    expect(there.run.instance.counters().backgroundDiscarded).toBeGreaterThan(0);
  });
});

describe('the counters', () => {
  it("report the passes' work done in the server", async () => {
    const engine = await resolveEngine('instrew', { hotThreshold: 0 });
    // Ready at once: every translation is made there.
    const there = run(engine, 'crc32', 'small', { backgroundTranslator: new LateTranslator(await resolveEngine('instrew', { hotThreshold: 0 })) });
    const k = there.run.instance.counters();
    expect(k.translateMs).toBeGreaterThanOrEqual(0);
    expect(k.backgroundModules).toBe(k.modules);
    expect(k.foldFolded).toBeGreaterThan(0);
    expect(k.dceRemoved).toBeGreaterThan(0);
  });
});

describe('a stale mirror', () => {
  it('costs translations, never a wrong one: units made from code that is not the guest’s are refused, and the pages sent again', async () => {
    const engine = await resolveEngine('instrew', { hotThreshold: 0 });
    const { program, c } = caseOf('crc32', 'small');
    // The server's copy of every executable page is zeroed once, after it started.
    const late = new LateTranslator(await resolveEngine('instrew', { hotThreshold: 0 }), (server) => {
      for (let p = 0; p < server.mem.pages; p++) if (server.mem.perm[p]) server.mem.u8.fill(0, p * 4096, (p + 1) * 4096);
    });
    const there = run(engine, 'crc32', 'small', { backgroundTranslator: late });
    expect(text(there.run.stdout)).toBe(text(expectedOf(program, c).stdout));
    expect(there.run.status).toBe(0);
    const k = there.run.instance.counters();
    expect(k.backgroundDiscarded).toBeGreaterThan(0);
    // Each page refused was sent again, and later translations were installed.
    expect(k.units).toBeGreaterThan(0);
  });
});

describe('the translation cache', () => {
  it('keeps what was translated remotely, in the numbering the server gave it', async () => {
    const engine = await resolveEngine('instrew', {});
    const { program, c } = caseOf('crc32', 'small');
    const tag = 'remote-test';
    const first = run(engine, 'crc32', 'small', { backgroundTranslator: new LateTranslator(await resolveEngine('instrew', {})), codeCache: { bytes: null, tag, maxBytes: 1 << 26 } });
    const saved = first.run.instance.codeCache!.save();
    expect(saved.bytes).not.toBeNull();
    // The next run installs those units from the cache, translating here; and again remotely.
    for (const extras of [{}, { backgroundTranslator: new LateTranslator(await resolveEngine('instrew', {})) }]) {
      const warm = run(engine, 'crc32', 'small', { ...extras, codeCache: { bytes: saved.bytes, tag, maxBytes: 1 << 26 } });
      expect(text(warm.run.stdout)).toBe(text(expectedOf(program, c).stdout));
      expect(warm.stops).toEqual(first.stops);
      const k = warm.run.instance.counters();
      expect(warm.run.instance.codeCache!.note).toBeNull();
      expect(k.cacheUnits).toBeGreaterThan(0);
      expect(k.cacheRejectedUnits).toBe(0);
    }
  });
});

describe('the worker thread', () => {
  it.each([0, 20])('gives the same output and instruction counts with up to %d ms more per translation', async (delayMs) => {
    const engine = await resolveEngine('instrew', { hotThreshold: 0 });
    for (const [name, caseId] of [['crc32', 'small'], ['smc', 'default']] as const) {
      const here = run(engine, name, caseId);
      const worker = new WorkerTranslator({ engine: 'instrew', options: { hotThreshold: 0 }, plugins: [] }, { delayMs, seed: 7 });
      try {
        const there = run(engine, name, caseId, { backgroundTranslator: worker });
        expect(text(there.run.stdout)).toBe(text(here.run.stdout));
        expect(there.run.status).toBe(here.run.status);
        expect(there.stops).toEqual(here.stops);
        // Whether any translation arrived before the program ended depends on the
        // machine's load: what arrived was installed.
        const k = there.run.instance.counters();
        expect(k.units).toBeGreaterThanOrEqual(k.backgroundModules - k.backgroundDiscarded > 0 ? 1 : 0);
      } finally {
        await worker.close();
      }
    }
  });

  it('reports a failure there as an error here', async () => {
    const worker = new WorkerTranslator({ engine: 'no-such-engine', options: {}, plugins: [] });
    worker.boot();
    try {
      // The runtime asks without waiting; here the test waits for the failure's message.
      let error: Error | undefined;
      while (!error) {
        try {
          expect(worker.ready()).toBe(false);
          await new Promise((r) => setTimeout(r, 20));
        } catch (e) {
          error = e as Error;
        }
      }
      expect(error.message).toMatch(/background translation failed: .*unknown execution engine 'no-such-engine'/);
    } finally {
      await worker.close();
    }
  });
});
