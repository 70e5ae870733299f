// Functions taken from one WebAssembly module into another as they were encoded
// (ModuleBuilder.copyFuncs, what the translation cache's saved module is made of):
// only the function indices of their direct calls are patched, and they compute what
// they computed in the module they came from.
import { directCalls, I32, I64, ModuleBuilder } from '../../core/models/wasm/encoder';

/** A relocatable module: f0 (x) = f1(x) + 1; f1 (x) = helper(x) (call_indirect, table entry 0); f2 tail-calls f0. */
function source(): { bytes: Uint8Array<ArrayBuffer>; m: ModuleBuilder } {
  const m = new ModuleBuilder(true);
  const t = m.type([I32], [I32]);
  m.importTable('env', 'helpers', 1);
  const f0 = m.func(t);
  const f1 = m.func(t);
  const f2 = m.func(t);
  f0.body.get(0).call(f1.index).i32Const(1).op(0x6a);
  // A local declared, so that the copied code carries its locals too.
  const tmp = f1.body.local(I64);
  f1.body.i64Const(5).set(tmp);
  f1.body.get(0).i32Const(0).callIndirect(t);
  f2.body.get(0).returnCall(f0.index);
  m.export('f0', f0.index);
  m.export('f2', f2.index);
  return { bytes: m.finish(), m };
}

function helperTable(): WebAssembly.Table {
  // The helper: x → 10·x, from a module of its own.
  const h = new ModuleBuilder();
  const t = h.type([I32], [I32]);
  const f = h.func(t);
  f.body.get(0).i32Const(10).op(0x6c);
  h.export('h', f.index);
  const fn = new WebAssembly.Instance(new WebAssembly.Module(h.finish())).exports.h as WebAssembly.ExportValue;
  const table = new WebAssembly.Table({ element: 'anyfunc', initial: 1 });
  table.set(0, fn as () => number);
  return table;
}

describe('copying functions between modules', () => {
  it('patches direct calls, and the copies compute what the originals did', () => {
    const { bytes, m } = source();
    const layout = m.layout();
    expect(directCalls(bytes, layout, 0)).toEqual([1]);
    expect(directCalls(bytes, layout, 1)).toEqual([]);
    expect(directCalls(bytes, layout, 2)).toEqual([0]);
    const table = helperTable();
    const original = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { helpers: table } }).exports as Record<string, (x: number) => number>;
    expect(original.f0(4)).toBe(41);
    expect(original.f2(4)).toBe(41);
    // The same first types, then another; a function of the module's own first, so
    // that f0 and f1 (copied as one run) become 1 and 2, and f2 becomes 3.
    // Mutation that must break this test: copyFuncs leaving the function indices it
    // read (0, 1) in place of the mapped ones. (Checked once.)
    const to = new ModuleBuilder();
    const t = to.type([I32], [I32]);
    to.type([I64, I64], [I64]);
    to.importTable('env', 'helpers', 1);
    const own = to.func(t);
    own.body.get(0);
    const map = [1, 2, 3];
    const g0 = to.copyFuncs(bytes, layout, 0, 2, (f) => map[f]);
    const g2 = to.copyFuncs(bytes, layout, 2, 3, (f) => map[f]);
    expect([g0, g2]).toEqual([1, 3]);
    // A module whose first types differ cannot take them.
    const other = new ModuleBuilder();
    other.type([I64], [I64]);
    expect(() => other.copyFuncs(bytes, layout, 0, 1, (f) => f)).toThrow(/types differ/);
    to.export('g0', g0);
    to.export('g2', g2);
    const copy = new WebAssembly.Instance(new WebAssembly.Module(to.finish()), { env: { helpers: table } }).exports as Record<string, (x: number) => number>;
    for (const x of [0, 4, -7, 123456]) {
      expect(copy.g0(x)).toBe(original.f0(x));
      expect(copy.g2(x)).toBe(original.f2(x));
    }
  });
});
