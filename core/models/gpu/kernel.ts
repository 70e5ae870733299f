// The GPU kernel IR and the typed builder that writes it: data-parallel loop nests
// in the manner of TornadoVM's @Parallel loops and @Reduce reductions. A kernel is a
// body run once per work-item of a 1-D or 2-D index space, over arrays with element
// types; expressions are trees, loops have constant bounds (the JIT specializes a
// kernel for its sizes, as TornadoVM does), and index expressions are meant to be
// affine in the work-item's ids and the loop variables, which is what lets a JIT
// (hooks.gpu.optimizeKernel) see which neighbouring work-items read the same data.
//
//   const b = new KernelBuilder('saxpy', [n]);
//   const x = b.input('x', 'f32', n), y = b.inout('y', 'f32', n);
//   b.store(y, b.gid(0), add(mul(2, x.at(b.gid(0))), y.at(b.gid(0))));
//   const k = b.build();

export type ElemType = 'f32' | 'i32';
export type BinOp = 'add' | 'sub' | 'mul' | 'div' | 'idiv' | 'mod' | 'min' | 'max' | 'lt' | 'le' | 'eq' | 'and';
export type ReduceOp = 'add' | 'max' | 'min';

export type Expr =
  | { readonly k: 'const'; readonly v: number }
  /** Global id of the work-item in dimension d. */
  | { readonly k: 'gid'; readonly d: 0 | 1 }
  /** Id of the work-item inside its work-group in dimension d. */
  | { readonly k: 'lid'; readonly d: 0 | 1 }
  /** Id of the work-group in dimension d. */
  | { readonly k: 'grp'; readonly d: 0 | 1 }
  /** A loop variable (uniform) or a private variable of the work-item. */
  | { readonly k: 'var'; readonly name: string }
  | { readonly k: 'load'; readonly array: string; readonly index: Expr }
  | { readonly k: 'bin'; readonly op: BinOp; readonly a: Expr; readonly b: Expr };

export type Stmt =
  | { readonly k: 'store'; readonly array: string; readonly index: Expr; readonly value: Expr }
  /** Declares (first time) or assigns a private variable of the work-item. */
  | { readonly k: 'set'; readonly name: string; readonly value: Expr }
  /** for (v = from; v < to; v += step), bounds constant. */
  | { readonly k: 'for'; readonly v: string; readonly from: number; readonly to: number; readonly step: number; readonly body: readonly Stmt[] }
  | { readonly k: 'if'; readonly cond: Expr; readonly then: readonly Stmt[] }
  /** Work-group barrier with a local and global memory fence. */
  | { readonly k: 'barrier' }
  /** target[0] = op over every work-item of `value` (a @Reduce): lowered by a JIT pass. */
  | { readonly k: 'reduce'; readonly op: ReduceOp; readonly target: string; readonly value: Expr };

export interface ArrayDecl {
  readonly name: string;
  readonly type: ElemType;
  /** Elements. */
  readonly length: number;
  /** Global arrays live in device memory; local ones in each work-group's local memory. */
  readonly space: 'global' | 'local';
  /** How the host uses a global array: copied in, copied out, or both; 'temp' stays on the device. */
  readonly access: 'in' | 'out' | 'inout' | 'temp';
}

/** What the host does after the kernel: combine per-work-group partial results of a reduction. */
export interface HostFinish {
  readonly op: ReduceOp;
  readonly partials: string;
  readonly target: string;
}

export interface Kernel {
  readonly name: string;
  /** Work-items per dimension (1-D kernels have one entry). */
  readonly global: readonly number[];
  /** Work-group size per dimension, once chosen (by a JIT pass or by hand). */
  readonly local?: readonly number[];
  readonly arrays: readonly ArrayDecl[];
  readonly body: readonly Stmt[];
  readonly hostFinish?: readonly HostFinish[];
  /** Written by hand for a fixed work-group: JIT passes leave it alone. */
  readonly handTuned?: boolean;
  /** What the passes did, for reports: one line each. */
  readonly notes?: readonly string[];
}

// Expression helpers: numbers are constants.
export type ExprLike = Expr | number;
export const lit = (e: ExprLike): Expr => (typeof e === 'number' ? { k: 'const', v: e } : e);
const bin = (op: BinOp) => (a: ExprLike, b: ExprLike): Expr => ({ k: 'bin', op, a: lit(a), b: lit(b) });
export const add = bin('add');
export const sub = bin('sub');
export const mul = bin('mul');
export const div = bin('div');
export const idiv = bin('idiv');
export const mod = bin('mod');
export const min = bin('min');
export const max = bin('max');
export const lt = bin('lt');
export const le = bin('le');
export const eq = bin('eq');
export const and = bin('and');
export const v = (name: string): Expr => ({ k: 'var', name });

/** A typed handle on an array of a kernel being built. */
export class ArrayRef {
  constructor(
    readonly name: string,
    readonly type: ElemType,
    readonly length: number,
  ) {}
  /** A load of element `index`. */
  at(index: ExprLike): Expr {
    return { k: 'load', array: this.name, index: lit(index) };
  }
}

/** A private variable of the work-item. */
export class VarRef {
  constructor(readonly name: string) {}
  get e(): Expr {
    return v(this.name);
  }
}

/**
 * Builds a kernel statement by statement. Nested bodies (loops, ifs) are written as
 * callbacks; the builder keeps the stack of open bodies.
 */
export class KernelBuilder {
  private readonly arrays: ArrayDecl[] = [];
  private readonly stack: Stmt[][] = [[]];
  private names = new Set<string>();
  private local?: number[];
  private handTuned = false;

  constructor(
    readonly name: string,
    readonly global: readonly number[],
  ) {
    if (global.length < 1 || global.length > 2) throw new Error(`kernel '${name}': the index space has 1 or 2 dimensions, not ${global.length}`);
    for (const g of global) if (!Number.isInteger(g) || g < 1) throw new Error(`kernel '${name}': index-space size ${g} is not a positive integer`);
  }

  private declare(name: string, type: ElemType, length: number, space: 'global' | 'local', access: ArrayDecl['access']): ArrayRef {
    if (this.names.has(name)) throw new Error(`kernel '${this.name}': array '${name}' is declared twice`);
    if (!Number.isInteger(length) || length < 1) throw new Error(`kernel '${this.name}': array '${name}' has length ${length}; give a positive integer`);
    this.names.add(name);
    this.arrays.push({ name, type, length, space, access });
    return new ArrayRef(name, type, length);
  }
  input(name: string, type: ElemType, length: number): ArrayRef {
    return this.declare(name, type, length, 'global', 'in');
  }
  output(name: string, type: ElemType, length: number): ArrayRef {
    return this.declare(name, type, length, 'global', 'out');
  }
  inout(name: string, type: ElemType, length: number): ArrayRef {
    return this.declare(name, type, length, 'global', 'inout');
  }
  /** A device-only global array (scratch). */
  temp(name: string, type: ElemType, length: number): ArrayRef {
    return this.declare(name, type, length, 'global', 'temp');
  }
  /** A local-memory array of each work-group (hand-tuned kernels). */
  localArray(name: string, type: ElemType, length: number): ArrayRef {
    return this.declare(name, type, length, 'local', 'temp');
  }
  /** Fixes the work-group size: the kernel is hand-tuned and JIT passes leave it alone. */
  workGroup(...local: number[]): this {
    if (local.length !== this.global.length) throw new Error(`kernel '${this.name}': the work-group has ${local.length} dimensions, the index space ${this.global.length}`);
    local.forEach((l, d) => {
      if (this.global[d] % l !== 0) throw new Error(`kernel '${this.name}': work-group size ${l} does not divide the index space ${this.global[d]} in dimension ${d}`);
    });
    this.local = local;
    this.handTuned = true;
    return this;
  }

  gid(d: 0 | 1): Expr {
    this.dim(d);
    return { k: 'gid', d };
  }
  lid(d: 0 | 1): Expr {
    this.dim(d);
    return { k: 'lid', d };
  }
  grp(d: 0 | 1): Expr {
    this.dim(d);
    return { k: 'grp', d };
  }
  private dim(d: number): void {
    if (d >= this.global.length) throw new Error(`kernel '${this.name}' has ${this.global.length} dimension(s); dimension ${d} does not exist`);
  }

  private emit(s: Stmt): void {
    this.stack[this.stack.length - 1].push(s);
  }
  store(array: ArrayRef, index: ExprLike, value: ExprLike): void {
    this.emit({ k: 'store', array: array.name, index: lit(index), value: lit(value) });
  }
  /** Declares a private variable with its first value. */
  let(name: string, init: ExprLike): VarRef {
    this.emit({ k: 'set', name, value: lit(init) });
    return new VarRef(name);
  }
  set(variable: VarRef, value: ExprLike): void {
    this.emit({ k: 'set', name: variable.name, value: lit(value) });
  }
  /** A loop with constant bounds; `body` receives the loop variable. */
  for(name: string, from: number, to: number, body: (i: Expr) => void, step = 1): void {
    if (!(step > 0)) throw new Error(`kernel '${this.name}': loop '${name}' needs a positive step`);
    this.stack.push([]);
    body(v(name));
    const stmts = this.stack.pop()!;
    this.emit({ k: 'for', v: name, from, to, step, body: stmts });
  }
  if(cond: ExprLike, then: () => void): void {
    this.stack.push([]);
    then();
    this.emit({ k: 'if', cond: lit(cond), then: this.stack.pop()! });
  }
  barrier(): void {
    this.emit({ k: 'barrier' });
  }
  /** target[0] = op of `value` over every work-item (TornadoVM's @Reduce). */
  reduce(op: ReduceOp, target: ArrayRef, value: ExprLike): void {
    this.emit({ k: 'reduce', op, target: target.name, value: lit(value) });
  }
  /** Declares the per-work-group partials of a hand-written reduction, which the host combines. */
  hostFinish(op: ReduceOp, partials: ArrayRef, target: ArrayRef): void {
    this.finish.push({ op, partials: partials.name, target: target.name });
  }
  private finish: HostFinish[] = [];

  build(): Kernel {
    return Object.freeze({
      name: this.name,
      global: [...this.global],
      local: this.local,
      arrays: [...this.arrays],
      body: this.stack[0],
      hostFinish: this.finish.length ? [...this.finish] : undefined,
      handTuned: this.handTuned || undefined,
    });
  }
}

// ---------------------------------------------------------------------------
// Analysis helpers that JIT passes share: affine forms of index expressions.

/**
 * An affine form c + Σ coef·term, where terms are 'gid0', 'gid1', 'lid0', 'lid1',
 * 'grp0', 'grp1' or loop-variable names. Integer arithmetic on array indices.
 */
export interface Affine {
  readonly c: number;
  readonly terms: ReadonlyMap<string, number>;
}

/** The affine form of `e`, or undefined when it is not affine (a product of two ids, a load, a division…). */
export function affineOf(e: Expr, loopVars: ReadonlySet<string>): Affine | undefined {
  switch (e.k) {
    case 'const':
      return { c: e.v, terms: new Map() };
    case 'gid':
    case 'lid':
    case 'grp':
      return { c: 0, terms: new Map([[`${e.k}${e.d}`, 1]]) };
    case 'var':
      return loopVars.has(e.name) ? { c: 0, terms: new Map([[e.name, 1]]) } : undefined;
    case 'load':
      return undefined;
    case 'bin': {
      const a = affineOf(e.a, loopVars);
      const b = affineOf(e.b, loopVars);
      if (!a || !b) return undefined;
      if (e.op === 'add' || e.op === 'sub') {
        const s = e.op === 'add' ? 1 : -1;
        const terms = new Map(a.terms);
        for (const [t, c] of b.terms) terms.set(t, (terms.get(t) ?? 0) + s * c);
        for (const [t, c] of [...terms]) if (c === 0) terms.delete(t);
        return { c: a.c + s * b.c, terms };
      }
      if (e.op === 'mul') {
        const [k, x] = a.terms.size === 0 ? [a.c, b] : b.terms.size === 0 ? [b.c, a] : [undefined, undefined];
        if (k === undefined || !x) return undefined;
        const terms = new Map<string, number>();
        if (k !== 0) for (const [t, c] of x.terms) terms.set(t, c * k);
        return { c: x.c * k, terms };
      }
      return undefined;
    }
  }
}

/** Rebuilds an expression from an affine form (used when a pass rewrites an index). */
export function exprOfAffine(a: Affine, termExpr: (term: string) => Expr): Expr {
  let e: Expr = lit(a.c);
  for (const [t, c] of a.terms) e = add(e, c === 1 ? termExpr(t) : mul(c, termExpr(t)));
  return e;
}

/** Replaces sub-expressions bottom-up: `f` returns a replacement or undefined to keep the node. */
export function mapExpr(e: Expr, f: (e: Expr) => Expr | undefined): Expr {
  let out: Expr = e;
  if (e.k === 'load') out = { ...e, index: mapExpr(e.index, f) };
  else if (e.k === 'bin') out = { ...e, a: mapExpr(e.a, f), b: mapExpr(e.b, f) };
  return f(out) ?? out;
}

/** Applies `f` to every expression of a statement list, recursively (returns new statements). */
export function mapStmts(body: readonly Stmt[], f: (e: Expr) => Expr | undefined): Stmt[] {
  return body.map((s): Stmt => {
    switch (s.k) {
      case 'store':
        return { ...s, index: mapExpr(s.index, f), value: mapExpr(s.value, f) };
      case 'set':
        return { ...s, value: mapExpr(s.value, f) };
      case 'for':
        return { ...s, body: mapStmts(s.body, f) };
      case 'if':
        return { ...s, cond: mapExpr(s.cond, f), then: mapStmts(s.then, f) };
      case 'reduce':
        return { ...s, value: mapExpr(s.value, f) };
      case 'barrier':
        return s;
    }
  });
}

/** Calls `f` on every load in a statement list with the loop variables around it. */
export function forEachLoad(body: readonly Stmt[], f: (load: Extract<Expr, { k: 'load' }>, loops: readonly Extract<Stmt, { k: 'for' }>[]) => void, loops: Extract<Stmt, { k: 'for' }>[] = []): void {
  const walk = (e: Expr): void => {
    if (e.k === 'load') {
      walk(e.index);
      f(e, loops);
    } else if (e.k === 'bin') {
      walk(e.a);
      walk(e.b);
    }
  };
  for (const s of body) {
    if (s.k === 'store') {
      walk(s.index);
      walk(s.value);
    } else if (s.k === 'set' || s.k === 'reduce') walk(s.value);
    else if (s.k === 'if') {
      walk(s.cond);
      forEachLoad(s.then, f, loops);
    } else if (s.k === 'for') forEachLoad(s.body, f, [...loops, s]);
  }
}

/** Names of global arrays the body stores into. */
export function storedArrays(body: readonly Stmt[]): Set<string> {
  const out = new Set<string>();
  const walk = (b: readonly Stmt[]) => {
    for (const s of b) {
      if (s.k === 'store') out.add(s.array);
      else if (s.k === 'for') walk(s.body);
      else if (s.k === 'if') walk(s.then);
    }
  };
  walk(body);
  return out;
}
