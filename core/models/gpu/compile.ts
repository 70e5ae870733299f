// Compiling a kernel for a device: the hooks.gpu.optimizeKernel waterfall (the JIT
// plugins' passes), then what every GPU compiler does with whatever no pass settled:
// reductions become work-group tree reductions over a scratch array in global memory
// whose per-group partials the host combines (as TornadoVM finishes reductions on the
// host), and the work-group takes the driver's default size. A JIT that uses local
// memory does better than this floor, which is the global-memory-only baseline.

import { add, eq, lit, lt, max, min, type ArrayDecl, type Expr, type Kernel, type ReduceOp, type Stmt } from './kernel';
import type { GpuHooks } from './hooks';
import type { GpuProfile } from './profile';

/** The OpenCL driver's choice when the host passes no local size: the largest divisor of each dimension up to 256 (1-D) or 16 per side (2-D). */
export function defaultWorkGroup(global: readonly number[], dev: GpuProfile): number[] {
  const cap = global.length === 1 ? Math.min(256, dev.maxWorkGroupSize) : Math.floor(Math.sqrt(Math.min(256, dev.maxWorkGroupSize)));
  return global.map((g) => {
    let s = Math.min(cap, g);
    while (g % s) s--;
    return s;
  });
}

export const combine = (op: ReduceOp, a: Expr, b: Expr): Expr => (op === 'add' ? add(a, b) : op === 'max' ? max(a, b) : min(a, b));

/**
 * A work-group tree reduction of `value` into `scratch` (global or local), with a
 * barrier after each level, and the group's result stored by work-item 0 into
 * `partials[group]`. `slot` is the work-item's element of scratch; `lid` its linear
 * id in the group of `size` work-items.
 */
export function treeReduction(op: ReduceOp, value: Expr, scratch: string, slot: (offset: Expr) => Expr, lid: Expr, size: number, partials: string, group: Expr): Stmt[] {
  const out: Stmt[] = [{ k: 'store', array: scratch, index: slot(lit(0)), value }, { k: 'barrier' }];
  for (let n = size; n > 1; ) {
    const half = Math.ceil(n / 2);
    out.push({
      k: 'if',
      cond: lt(lid, n - half),
      then: [{ k: 'store', array: scratch, index: slot(lit(0)), value: combine(op, { k: 'load', array: scratch, index: slot(lit(0)) }, { k: 'load', array: scratch, index: slot(lit(half)) }) }],
    });
    out.push({ k: 'barrier' });
    n = half;
  }
  out.push({ k: 'if', cond: eq(lid, 0), then: [{ k: 'store', array: partials, index: group, value: { k: 'load', array: scratch, index: slot(lit(0)) } }] });
  return out;
}

/**
 * Lowers the reductions of a 1-D kernel to work-group tree reductions of `l`
 * work-items whose scratch lives in `space`: global memory indexed by the global id
 * (the floor every compiled kernel gets) or local memory indexed by the local id (what
 * a JIT pass that stages reductions asks for). Returns the kernel and how many it lowered.
 */
export function lowerReductions(k: Kernel, l: number, space: 'global' | 'local'): { kernel: Kernel; lowered: number } {
  const arrays: ArrayDecl[] = [...k.arrays];
  const finish = [...(k.hostFinish ?? [])];
  const body: Stmt[] = [];
  const lid: Expr = { k: 'lid', d: 0 };
  const index: Expr = space === 'global' ? { k: 'gid', d: 0 } : lid;
  let lowered = 0;
  for (const s of k.body) {
    if (s.k !== 'reduce') {
      body.push(s);
      continue;
    }
    const scratch = `${s.target}__${space === 'global' ? 'scratch' : 'local'}`;
    const partials = `${s.target}__partials`;
    arrays.push({ name: scratch, type: 'f32', length: space === 'global' ? k.global[0] : l, space, access: 'temp' }, { name: partials, type: 'f32', length: k.global[0] / l, space: 'global', access: 'temp' });
    finish.push({ op: s.op, partials, target: s.target });
    body.push(...treeReduction(s.op, s.value, scratch, (o) => add(index, o), lid, l, partials, { k: 'grp', d: 0 }));
    lowered++;
  }
  const note = space === 'global' ? 'reductions: tree in global memory' : `reductions: tree in local memory over ${l} work-items`;
  return { kernel: { ...k, arrays, body, hostFinish: finish, notes: [...(k.notes ?? []), note] }, lowered };
}

/** Lowers the reductions left in a 1-D kernel to tree reductions in global memory. */
export function lowerReductionsGlobal(k: Kernel): Kernel {
  if (!k.body.some((s) => s.k === 'reduce')) return k;
  if (k.global.length !== 1) throw new Error(`kernel '${k.name}': reductions are supported over 1-D index spaces`);
  return lowerReductions(k, k.local![0], 'global').kernel;
}

/** Compiles `k` for `dev`: the JIT passes, then the global-memory floor for what they left. */
export function compileKernel(hooks: GpuHooks | undefined, k: Kernel, dev: GpuProfile): Kernel {
  let out = hooks ? hooks.optimizeKernel.call(k, { device: dev }) : k;
  if (!out.local) out = { ...out, local: defaultWorkGroup(out.global, dev) };
  out = lowerReductionsGlobal(out);
  return out;
}
