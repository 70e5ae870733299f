// A WebAssembly binary writer: what the translators use to turn guest code into host
// code at run time. It covers the part of WebAssembly 2.0 they need — function
// types with several results, imported memory, table, functions and globals, locals,
// structured control, integer and float arithmetic, tail calls — and writes bytes
// straight into a growing buffer, because translation time is part of what the
// translators are measured on. A relocatable module also records where its
// functions' code and the function indices of their direct calls lie (written in a
// fixed width), so that another module with the same types can take those functions
// as encoded, in runs, patching only those indices in place (copyFuncs).
//
// Usage:
//   const m = new ModuleBuilder();
//   const t = m.type([], [I32]);
//   const mem = m.importMemory('env', 'mem', pages);
//   const f = m.func(t); f.body.i32Const(42); m.export('run', f);
//   const bytes = m.finish();

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const FUNCREF = 0x70;
/** The block type of a block that takes and yields nothing. */
export const VOID = 0x40;

export type ValType = typeof I32 | typeof I64 | typeof F32 | typeof F64;

/** Opcodes, by their WebAssembly text names (dots become underscores). */
export const W = {
  unreachable: 0x00, nop: 0x01, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b,
  br: 0x0c, br_if: 0x0d, br_table: 0x0e, return: 0x0f, call: 0x10, call_indirect: 0x11,
  return_call: 0x12, return_call_indirect: 0x13, drop: 0x1a, select: 0x1b,
  local_get: 0x20, local_set: 0x21, local_tee: 0x22, global_get: 0x23, global_set: 0x24,
  i32_load: 0x28, i64_load: 0x29, f32_load: 0x2a, f64_load: 0x2b,
  i32_load8_s: 0x2c, i32_load8_u: 0x2d, i32_load16_s: 0x2e, i32_load16_u: 0x2f,
  i64_load8_s: 0x30, i64_load8_u: 0x31, i64_load16_s: 0x32, i64_load16_u: 0x33, i64_load32_s: 0x34, i64_load32_u: 0x35,
  i32_store: 0x36, i64_store: 0x37, f32_store: 0x38, f64_store: 0x39,
  i32_store8: 0x3a, i32_store16: 0x3b, i64_store8: 0x3c, i64_store16: 0x3d, i64_store32: 0x3e,
  i32_const: 0x41, i64_const: 0x42, f32_const: 0x43, f64_const: 0x44,
  i32_eqz: 0x45, i32_eq: 0x46, i32_ne: 0x47, i32_lt_s: 0x48, i32_lt_u: 0x49, i32_gt_s: 0x4a, i32_gt_u: 0x4b,
  i32_le_s: 0x4c, i32_le_u: 0x4d, i32_ge_s: 0x4e, i32_ge_u: 0x4f,
  i64_eqz: 0x50, i64_eq: 0x51, i64_ne: 0x52, i64_lt_s: 0x53, i64_lt_u: 0x54, i64_gt_s: 0x55, i64_gt_u: 0x56,
  i64_le_s: 0x57, i64_le_u: 0x58, i64_ge_s: 0x59, i64_ge_u: 0x5a,
  f32_eq: 0x5b, f32_ne: 0x5c, f32_lt: 0x5d, f32_gt: 0x5e, f32_le: 0x5f, f32_ge: 0x60,
  f64_eq: 0x61, f64_ne: 0x62, f64_lt: 0x63, f64_gt: 0x64, f64_le: 0x65, f64_ge: 0x66,
  i32_clz: 0x67, i32_ctz: 0x68, i32_popcnt: 0x69, i32_add: 0x6a, i32_sub: 0x6b, i32_mul: 0x6c,
  i32_div_s: 0x6d, i32_div_u: 0x6e, i32_rem_s: 0x6f, i32_rem_u: 0x70, i32_and: 0x71, i32_or: 0x72, i32_xor: 0x73,
  i32_shl: 0x74, i32_shr_s: 0x75, i32_shr_u: 0x76, i32_rotl: 0x77, i32_rotr: 0x78,
  i64_clz: 0x79, i64_ctz: 0x7a, i64_popcnt: 0x7b, i64_add: 0x7c, i64_sub: 0x7d, i64_mul: 0x7e,
  i64_div_s: 0x7f, i64_div_u: 0x80, i64_rem_s: 0x81, i64_rem_u: 0x82, i64_and: 0x83, i64_or: 0x84, i64_xor: 0x85,
  i64_shl: 0x86, i64_shr_s: 0x87, i64_shr_u: 0x88, i64_rotl: 0x89, i64_rotr: 0x8a,
  f32_abs: 0x8b, f32_neg: 0x8c, f32_ceil: 0x8d, f32_floor: 0x8e, f32_trunc: 0x8f, f32_nearest: 0x90, f32_sqrt: 0x91,
  f32_add: 0x92, f32_sub: 0x93, f32_mul: 0x94, f32_div: 0x95, f32_min: 0x96, f32_max: 0x97, f32_copysign: 0x98,
  f64_abs: 0x99, f64_neg: 0x9a, f64_ceil: 0x9b, f64_floor: 0x9c, f64_trunc: 0x9d, f64_nearest: 0x9e, f64_sqrt: 0x9f,
  f64_add: 0xa0, f64_sub: 0xa1, f64_mul: 0xa2, f64_div: 0xa3, f64_min: 0xa4, f64_max: 0xa5, f64_copysign: 0xa6,
  i32_wrap_i64: 0xa7, i32_trunc_f32_s: 0xa8, i32_trunc_f32_u: 0xa9, i32_trunc_f64_s: 0xaa, i32_trunc_f64_u: 0xab,
  i64_extend_i32_s: 0xac, i64_extend_i32_u: 0xad, i64_trunc_f32_s: 0xae, i64_trunc_f32_u: 0xaf,
  i64_trunc_f64_s: 0xb0, i64_trunc_f64_u: 0xb1, f32_convert_i32_s: 0xb2, f32_convert_i32_u: 0xb3,
  f32_convert_i64_s: 0xb4, f32_convert_i64_u: 0xb5, f32_demote_f64: 0xb6, f64_convert_i32_s: 0xb7,
  f64_convert_i32_u: 0xb8, f64_convert_i64_s: 0xb9, f64_convert_i64_u: 0xba, f64_promote_f32: 0xbb,
  i32_reinterpret_f32: 0xbc, i64_reinterpret_f64: 0xbd, f32_reinterpret_i32: 0xbe, f64_reinterpret_i64: 0xbf,
  i32_extend8_s: 0xc0, i32_extend16_s: 0xc1, i64_extend8_s: 0xc2, i64_extend16_s: 0xc3, i64_extend32_s: 0xc4,
} as const;

const utf8 = new TextEncoder();

/** Bytes of the unsigned LEB128 encoding of v. */
function uleb(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** A growing byte buffer with LEB128 writers. */
export class Bytes {
  buf: Uint8Array;
  len = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }

  private grow(n: number): void {
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  /** Makes room for n more bytes at once. */
  reserve(n: number): void {
    if (this.len + n > this.buf.length) this.grow(n);
  }

  byte(b: number): void {
    if (this.len === this.buf.length) this.grow(1);
    this.buf[this.len++] = b;
  }

  bytes(b: Uint8Array | readonly number[]): void {
    if (this.len + b.length > this.buf.length) this.grow(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** Unsigned LEB128 of a non-negative integer below 2^32. */
  u32(v: number): void {
    v >>>= 0;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.byte(b);
    } while (v !== 0);
  }

  /** Signed LEB128 of a 32-bit integer. */
  s32(v: number): void {
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
        this.byte(b);
        return;
      }
      this.byte(b | 0x80);
    }
  }

  /** Signed LEB128 of the 64-bit integer hi·2^32 + lo (both int32 words). */
  s64(lo: number, hi: number): void {
    if (hi === lo >> 31) {
      this.s32(lo);
      return;
    }
    // Shift the pair right by 7 bits at a time, arithmetically.
    lo |= 0;
    hi |= 0;
    for (;;) {
      const b = lo & 0x7f;
      lo = (lo >>> 7) | (hi << 25);
      hi >>= 7;
      const done = (hi === 0 && lo === 0 && (b & 0x40) === 0) || (hi === -1 && lo === -1 && (b & 0x40) !== 0);
      if (done) {
        this.byte(b);
        return;
      }
      this.byte(b | 0x80);
    }
  }

  f64(v: number): void {
    if (this.len + 8 > this.buf.length) this.grow(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 8).setFloat64(0, v, true);
    this.len += 8;
  }

  f32(v: number): void {
    if (this.len + 4 > this.buf.length) this.grow(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, v, true);
    this.len += 4;
  }

  name(s: string): void {
    // Names are ASCII almost always (exports u0, u1, …: thousands in a module): written as they are.
    let ascii = true;
    for (let i = 0; i < s.length && ascii; i++) ascii = s.charCodeAt(i) < 0x80;
    if (ascii) {
      this.u32(s.length);
      this.reserve(s.length);
      for (let i = 0; i < s.length; i++) this.buf[this.len++] = s.charCodeAt(i);
      return;
    }
    const b = utf8.encode(s);
    this.u32(b.length);
    this.bytes(b);
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/** The body of one function: locals and instructions. */
export class FuncBody extends Bytes {
  private readonly localTypes: ValType[] = [];
  /** Structured constructs (block, loop, if) open at the current position. */
  depth = 0;
  /**
   * In a relocatable module: the offset of the function index of every direct call
   * (call, return_call), each written in FUNC_INDEX_BYTES bytes, so that the body can
   * be copied into another module and those indices patched (ModuleBuilder.copyFuncs).
   */
  funcAt: number[] | null = null;

  constructor(
    /** Number of parameters: the first local index available for locals. */
    readonly params: number,
  ) {
    super(512);
  }

  /** Declares a local; returns its index. */
  local(t: ValType): number {
    this.localTypes.push(t);
    return this.params + this.localTypes.length - 1;
  }

  get localCount(): number {
    return this.localTypes.length;
  }

  op(code: number): this {
    this.byte(code);
    return this;
  }

  get(i: number): this {
    this.byte(W.local_get);
    this.u32(i);
    return this;
  }

  set(i: number): this {
    this.byte(W.local_set);
    this.u32(i);
    return this;
  }

  tee(i: number): this {
    this.byte(W.local_tee);
    this.u32(i);
    return this;
  }

  i32Const(v: number): this {
    this.byte(W.i32_const);
    this.s32(v);
    return this;
  }

  /** i64.const of hi·2^32 + lo. */
  i64Const(lo: number, hi = lo >> 31): this {
    this.byte(W.i64_const);
    this.s64(lo, hi);
    return this;
  }

  f64Const(v: number): this {
    this.byte(W.f64_const);
    this.f64(v);
    return this;
  }

  f32Const(v: number): this {
    this.byte(W.f32_const);
    this.f32(v);
    return this;
  }

  /** A load or store with its alignment hint (log2 bytes) and constant offset. */
  mem(code: number, align: number, offset: number): this {
    this.byte(code);
    this.u32(align);
    this.u32(offset);
    return this;
  }

  block(type: number = VOID): this {
    this.byte(W.block);
    this.byte(type);
    this.depth++;
    return this;
  }

  loop(type: number = VOID): this {
    this.byte(W.loop);
    this.byte(type);
    this.depth++;
    return this;
  }

  if(type: number = VOID): this {
    this.byte(W.if);
    this.byte(type);
    this.depth++;
    return this;
  }

  else(): this {
    this.byte(W.else);
    return this;
  }

  end(): this {
    this.byte(W.end);
    this.depth--;
    return this;
  }

  br(depth: number): this {
    this.byte(W.br);
    this.u32(depth);
    return this;
  }

  brIf(depth: number): this {
    this.byte(W.br_if);
    this.u32(depth);
    return this;
  }

  call(func: number): this {
    this.byte(W.call);
    this.funcIndex(func);
    return this;
  }

  returnCall(func: number): this {
    this.byte(W.return_call);
    this.funcIndex(func);
    return this;
  }

  private funcIndex(func: number): void {
    if (!this.funcAt) return this.u32(func);
    this.funcAt.push(this.len);
    this.reserve(FUNC_INDEX_BYTES);
    putFuncIndex(this.buf, this.len, func);
    this.len += FUNC_INDEX_BYTES;
  }

  callIndirect(type: number, table = 0): this {
    this.byte(W.call_indirect);
    this.u32(type);
    this.u32(table);
    return this;
  }

  returnCallIndirect(type: number, table = 0): this {
    this.byte(W.return_call_indirect);
    this.u32(type);
    this.u32(table);
    return this;
  }

  /** The locals declaration, grouped by runs of one type, as the binary format wants. */
  localsHeader(out: Bytes): void {
    const runs: Array<[number, ValType]> = [];
    for (const t of this.localTypes) {
      const last = runs[runs.length - 1];
      if (last && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    out.u32(runs.length);
    for (const [n, t] of runs) {
      out.u32(n);
      out.byte(t);
    }
  }
}

/** Bytes of a relocatable module's direct-call function indices: LEB128 padded to 3 bytes (indices below 2^21). */
const FUNC_INDEX_BYTES = 3;

function putFuncIndex(b: Uint8Array, at: number, v: number): void {
  if (v < 0 || v >= 1 << 21) throw new RangeError(`function index ${v} does not fit in ${FUNC_INDEX_BYTES} bytes`);
  b[at] = (v & 0x7f) | 0x80;
  b[at + 1] = ((v >>> 7) & 0x7f) | 0x80;
  b[at + 2] = v >>> 14;
}

function getFuncIndex(b: Uint8Array, at: number): number {
  return (b[at] & 0x7f) | ((b[at + 1] & 0x7f) << 7) | (b[at + 2] << 14);
}

/**
 * A function of a module: a body being built, or `count` functions copied from
 * another module's bytes [from, to) (their sizes and code), with the function
 * indices to write at offsets `patchAt` from `from`.
 */
type FuncDef =
  | { readonly type: number; readonly body: FuncBody; readonly count?: undefined }
  | { readonly types: Int32Array; readonly first: number; readonly body?: undefined; readonly count: number; readonly src: Uint8Array; readonly from: number; readonly to: number; readonly patchAt: number[]; readonly patch: number[] };

type FuncType = { readonly params: readonly ValType[]; readonly results: readonly ValType[] };

/**
 * Where the functions of a finished relocatable module lie in its bytes, so that
 * another module can take them as they are (ModuleBuilder.copyFuncs).
 */
export interface CodeLayout {
  /** Defined function i's entry in the code section (its size, then its code) is bytes [code[2i], code[2i+1]). */
  readonly code: Int32Array;
  /** Offsets of the function indices of function i's direct calls: funcAt[funcFrom[i]] up to funcAt[funcFrom[i+1]]. */
  readonly funcAt: Int32Array;
  readonly funcFrom: Int32Array;
  readonly types: readonly FuncType[];
  /** The types, as one string (to compare two modules' types at once). */
  readonly typesKey: string;
  /** Each defined function's type index. */
  readonly funcTypes: Int32Array;
  /** Functions imported: a defined function's index is this plus its position. */
  readonly importedFuncs: number;
}

/** The defined functions that defined function i of a relocatable module calls directly (call, return_call), by position (as i). */
export function directCalls(bytes: Uint8Array, layout: CodeLayout, i: number): number[] {
  const out: number[] = [];
  for (let k = layout.funcFrom[i]; k < layout.funcFrom[i + 1]; k++) {
    const f = getFuncIndex(bytes, layout.funcAt[k]) - layout.importedFuncs;
    if (f >= 0) out.push(f);
  }
  return out;
}

/** Builds one module. Imported functions take the first function indices. */
export class ModuleBuilder {
  private readonly types: FuncType[] = [];
  private readonly typeKeys = new Map<string, number>();
  private readonly imports = new Bytes(128);
  private importCount = 0;
  private importedFuncs = 0;
  private importedGlobals = 0;
  private readonly funcs: FuncDef[] = [];
  private readonly exports: Array<{ name: string; kind: number; index: number }> = [];
  /** Set by finish() in a relocatable module. */
  private finished: CodeLayout | null = null;
  /** Functions copied (copyFuncs), and the runs they came in (one FuncDef each). */
  private copiedFuncs = 0;
  private copiedDefs = 0;
  /** The first n types as one string, by n. */
  private readonly typesKeys = new Map<number, string>();

  constructor(
    /** Record where the functions' code and their indices end up (see layout()). */
    private readonly relocatable = false,
  ) {}

  /** The index of a function type (deduplicated). */
  type(params: readonly ValType[], results: readonly ValType[]): number {
    const key = `${params.join(',')}>${results.join(',')}`;
    let i = this.typeKeys.get(key);
    if (i === undefined) {
      i = this.types.length;
      this.types.push({ params, results });
      this.typeKeys.set(key, i);
    }
    return i;
  }

  private importHeader(module: string, name: string, kind: number): void {
    if (this.funcs.length) throw new Error('imports must be declared before functions');
    this.imports.name(module);
    this.imports.name(name);
    this.imports.byte(kind);
    this.importCount++;
  }

  /** Imports a function; returns its function index. */
  importFunc(module: string, name: string, type: number): number {
    this.importHeader(module, name, 0);
    this.imports.u32(type);
    return this.importedFuncs++;
  }

  /** Imports a funcref table of at least `min` entries. */
  importTable(module: string, name: string, min: number): void {
    this.importHeader(module, name, 1);
    this.imports.byte(FUNCREF);
    this.imports.byte(0);
    this.imports.u32(min);
  }

  /** Imports a memory of exactly `pages` 64 KiB pages (initial = maximum). */
  importMemory(module: string, name: string, pages: number): void {
    this.importHeader(module, name, 2);
    this.imports.byte(1);
    this.imports.u32(pages);
    this.imports.u32(pages);
  }

  /** Imports a global; returns its global index. */
  importGlobal(module: string, name: string, type: ValType, mutable: boolean): number {
    this.importHeader(module, name, 3);
    this.imports.byte(type);
    this.imports.byte(mutable ? 1 : 0);
    return this.importedGlobals++;
  }

  /** Declares a function of the given type; fill `body` and the function is done. */
  func(type: number): { index: number; body: FuncBody } {
    const body = new FuncBody(this.types[type].params.length);
    if (this.relocatable) body.funcAt = [];
    const index = this.importedFuncs + this.funcCount;
    this.funcs.push({ type, body });
    return { index, body };
  }

  /** The first n types as one string (types are only added, so it is kept). */
  private typesKey(n: number): string {
    let k = this.typesKeys.get(n);
    if (k === undefined) this.typesKeys.set(n, (k = [...this.typeKeys.keys()].slice(0, n).join(';')));
    return k;
  }

  /** Functions defined so far. */
  private get funcCount(): number {
    return this.funcs.length + this.copiedFuncs - this.copiedDefs;
  }

  /**
   * Adds defined functions [from, to) of a relocatable module whose types are this
   * module's first types, their code as it is but for the function indices of their
   * direct calls (mapped by `func`), patched in place; returns the first's index.
   */
  copyFuncs(bytes: Uint8Array, layout: CodeLayout, from: number, to: number, func: (index: number) => number): number {
    if (this.relocatable) throw new Error('copyFuncs: into a module that is not relocatable');
    if (layout.types.length > this.types.length || layout.typesKey !== this.typesKey(layout.types.length)) throw new Error("copyFuncs: the modules' first types differ");
    const index = this.importedFuncs + this.funcCount;
    const start = layout.code[2 * from];
    // Copied when the module is finished, straight from the source (megabytes are not copied twice).
    const k0 = layout.funcFrom[from];
    const n = layout.funcFrom[to] - k0;
    // Plain arrays: thousands of runs, and a typed array costs more to make.
    const patchAt: number[] = [];
    const patch: number[] = [];
    for (let k = 0; k < n; k++) {
      const at = layout.funcAt[k0 + k];
      patchAt.push(at - start);
      patch.push(func(getFuncIndex(bytes, at)));
    }
    this.funcs.push({ types: layout.funcTypes, first: from, count: to - from, src: bytes, from: start, to: layout.code[2 * to - 1], patchAt, patch });
    this.copiedFuncs += to - from;
    this.copiedDefs++;
    return index;
  }

  /** Where the functions of the finished module lie (a relocatable module's). */
  layout(): CodeLayout {
    if (!this.finished) throw new Error('layout() needs a relocatable module, finished');
    return this.finished;
  }

  export(name: string, func: number): void {
    this.exports.push({ name, kind: 0, index: func });
  }

  /** The module's bytes. */
  finish(): Uint8Array<ArrayBuffer> {
    // Every section but the code section, then the module at its exact size: the code
    // section written straight into it (it holds almost all of a module's bytes, and
    // copying it again showed up in translation time and in saving the cache).
    const head = new Bytes(1024);
    head.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const section = (id: number, write: (s: Bytes) => void) => {
      const s = new Bytes(256);
      write(s);
      head.byte(id);
      head.u32(s.len);
      head.bytes(s.view());
    };
    section(1, (s) => {
      s.u32(this.types.length);
      for (const t of this.types) {
        s.byte(0x60);
        s.u32(t.params.length);
        for (const p of t.params) s.byte(p);
        s.u32(t.results.length);
        for (const r of t.results) s.byte(r);
      }
    });
    if (this.importCount) {
      section(2, (s) => {
        s.u32(this.importCount);
        s.bytes(this.imports.view());
      });
    }
    const n = this.funcCount;
    section(3, (s) => {
      s.u32(n);
      for (const f of this.funcs) {
        if (f.body) s.u32(f.type);
        else for (let k = 0; k < f.count; k++) s.u32(f.types[f.first + k]);
      }
    });
    section(7, (s) => {
      s.u32(this.exports.length);
      for (const e of this.exports) {
        s.name(e.name);
        s.byte(e.kind);
        s.u32(e.index);
      }
    });
    const heads = this.funcs.map((f) => {
      if (!f.body) return null;
      const locals = new Bytes(16);
      f.body.localsHeader(locals);
      return locals;
    });
    let codeSize = uleb(n);
    this.funcs.forEach((f, i) => {
      if (!f.body) return (codeSize += f.to - f.from);
      const size = heads[i]!.len + f.body.len + 1;
      codeSize += uleb(size) + size;
    });
    const out = new Bytes(head.len + 1 + uleb(codeSize) + codeSize);
    out.bytes(head.view());
    out.byte(10);
    out.u32(codeSize);
    out.u32(n);
    // Copied functions come with their sizes; a relocatable module has none (its layout covers its own bodies).
    const code = this.relocatable ? new Int32Array(2 * n) : null;
    const funcAt: number[] = [];
    const funcFrom = this.relocatable ? new Int32Array(n + 1) : null;
    this.funcs.forEach((f, i) => {
      if (!f.body) {
        const at = out.len;
        out.bytes(f.src.subarray(f.from, f.to));
        for (let k = 0; k < f.patchAt.length; k++) putFuncIndex(out.buf, at + f.patchAt[k], f.patch[k]);
        return;
      }
      if (code) code[2 * i] = out.len;
      out.u32(heads[i]!.len + f.body.len + 1);
      out.bytes(heads[i]!.view());
      const at = out.len;
      if (f.body.funcAt) for (const k of f.body.funcAt) funcAt.push(at + k);
      out.bytes(f.body.view());
      out.byte(W.end);
      if (code) code[2 * i + 1] = out.len;
      if (funcFrom) funcFrom[i + 1] = funcAt.length;
    });
    if (code && funcFrom) this.finished = { code, funcAt: Int32Array.from(funcAt), funcFrom, types: this.types.slice(), typesKey: this.typesKey(this.types.length), funcTypes: Int32Array.from(this.funcs, (f) => (f.body ? f.type : -1)), importedFuncs: this.importedFuncs };
    if (out.len !== out.buf.length) throw new Error(`finish: ${out.len} bytes written, ${out.buf.length} expected`);
    return out.buf as Uint8Array<ArrayBuffer>;
  }
}
