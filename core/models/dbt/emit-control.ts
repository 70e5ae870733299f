// Control-flow structuring of multi-block units (see emit.ts) by Ramsey's algorithm
// ("Beyond Relooper", ICFP 2022): the blocks' reverse postorder and dominator tree,
// loops at loop headers, `block`s ending just before merge points, and branches as
// `br` to them. Edges that would make the control-flow graph irreducible are cut:
// they leave the unit instead. Budget checkpoints go where control can come round
// again (the entry, loop headers, the continuations of host calls).

import { ExitEmitter } from './emit-exits';

/** A unit's emitter, as far as its control flow; the blocks themselves are emit.ts's. */
export abstract class ControlEmitter extends ExitEmitter {
  // Control-flow facts of the unit.
  protected readonly index = new Map<number, number>();
  protected rpo: number[] = [];
  protected order!: Int32Array;
  protected idom!: Int32Array;
  protected children: number[][] = [];
  protected loopHeader!: Uint8Array;
  protected merge!: Uint8Array;
  /** Blocks that check the budget against `bound`; the others only spend it. */
  protected checkpoint!: Uint8Array;
  protected bound = 0;
  /** Edges (from·n + to) cut to keep the graph reducible. */
  protected readonly cut = new Set<number>();

  /** Lowers block `bi`'s instructions and terminator (emit.ts). */
  protected abstract blockBody(bi: number): void;

  // ---- control-flow analysis ----

  protected succ(b: number): number[] {
    const block = this.u.blocks[b];
    const out: number[] = [];
    const t = block.term;
    if (t.k === 'jump') this.addSucc(out, b, t.target);
    else if (t.k === 'branch') {
      this.addSucc(out, b, t.taken);
      if (t.fall !== t.taken) this.addSucc(out, b, t.fall);
    } else if (t.k === 'indirect' && t.cases) for (const c of t.cases) this.addSucc(out, b, c);
    else if (t.k === 'call') this.addSucc(out, b, this.o.mapCalls ? t.ret : t.target);
    else if (t.k === 'icall' && this.o.mapCalls) this.addSucc(out, b, t.ret);
    return out;
  }

  private addSucc(out: number[], b: number, pc: number): void {
    const j = this.index.get(pc);
    if (j !== undefined && !this.cut.has(b * this.u.blocks.length + j)) out.push(j);
  }

  /** Every block's successors, as the edges cut so far leave them. */
  private successors(n: number): number[][] {
    const out: number[][] = new Array(n);
    for (let b = 0; b < n; b++) out[b] = this.succ(b);
    return out;
  }

  protected analyseCfg(): void {
    const blocks = this.u.blocks;
    const n = blocks.length;
    blocks.forEach((b, i) => {
      if (!this.index.has(b.start)) this.index.set(b.start, i);
    });
    if (n === 1 && this.succ(0).length === 0) {
      // One block that does not branch to itself: nothing to analyse (the block translator's case).
      this.rpo = [0];
      this.order = Int32Array.of(0);
      this.idom = Int32Array.of(0);
      this.loopHeader = new Uint8Array(1);
      this.merge = new Uint8Array(1);
      this.children = [[]];
      this.checkpoint = Uint8Array.of(1);
      this.bound = blocks[0].count;
      return;
    }
    // The successor lists are made once per analysis: the walks below visit each edge several times.
    let succs = this.successors(n);
    for (let pass = 0; pass < 4; pass++) {
      if (pass > 0) succs = this.successors(n);
      // Reverse postorder by an iterative depth-first search from the entry.
      const seen = new Uint8Array(n);
      const post: number[] = [];
      const stack: Array<[number, number]> = [[0, 0]];
      seen[0] = 1;
      const onStack = new Uint8Array(n);
      onStack[0] = 1;
      while (stack.length) {
        const top = stack[stack.length - 1];
        const s = succs[top[0]];
        if (top[1] < s.length) {
          const v = s[top[1]++];
          if (!seen[v]) {
            seen[v] = 1;
            onStack[v] = 1;
            stack.push([v, 0]);
          }
        } else {
          onStack[top[0]] = 0;
          post.push(top[0]);
          stack.pop();
        }
      }
      this.rpo = post.reverse();
      this.order = new Int32Array(n).fill(-1);
      this.rpo.forEach((b, i) => (this.order[b] = i));
      // Dominators (Cooper, Harvey and Kennedy's iteration over reverse postorder).
      const idom = new Int32Array(n).fill(-1);
      idom[0] = 0;
      const preds: number[][] = Array.from({ length: n }, () => []);
      for (const b of this.rpo) for (const s of succs[b]) preds[s].push(b);
      const intersect = (a: number, b: number) => {
        while (a !== b) {
          while (this.order[a] > this.order[b]) a = idom[a];
          while (this.order[b] > this.order[a]) b = idom[b];
        }
        return a;
      };
      for (let changed = true; changed; ) {
        changed = false;
        for (const b of this.rpo) {
          if (b === 0) continue;
          let d = -1;
          for (const p of preds[b]) if (idom[p] !== -1) d = d === -1 ? p : intersect(p, d);
          if (d !== idom[b]) {
            idom[b] = d;
            changed = true;
          }
        }
      }
      this.idom = idom;
      // A backward edge whose target does not dominate its source makes the graph
      // irreducible: cut it (it leaves the unit) and analyse again.
      const dominates = (a: number, b: number) => {
        while (b !== a && b !== 0) b = idom[b];
        return b === a;
      };
      let cutNow = 0;
      for (const b of this.rpo) {
        for (const s of succs[b]) {
          if (this.order[s] <= this.order[b] && !dominates(s, b)) {
            this.cut.add(b * n + s);
            cutNow++;
          }
        }
      }
      if (!cutNow) break;
    }
    this.loopHeader = new Uint8Array(n);
    const forwardIn = new Uint8Array(n);
    for (const b of this.rpo) {
      for (const s of this.succ(b)) {
        if (this.order[s] <= this.order[b]) this.loopHeader[s] = 1;
        else forwardIn[s]++;
      }
    }
    this.merge = new Uint8Array(n);
    for (let i = 0; i < n; i++) this.merge[i] = forwardIn[i] >= 2 ? 1 : 0;
    // Budget checkpoints: the entry, loop headers and the continuations of host calls
    // (whose callee spent budget). Between two checkpoints control runs through each
    // block at most once, so the region's instruction count bounds what it can spend.
    this.checkpoint = new Uint8Array(n);
    this.checkpoint[0] = 1;
    this.bound = 0;
    for (const b of this.rpo) {
      this.bound += blocks[b].count;
      if (this.loopHeader[b]) this.checkpoint[b] = 1;
      const t = blocks[b].term;
      if ((t.k === 'call' || t.k === 'icall') && this.o.mapCalls) {
        const j = this.isInternal(b, t.ret);
        if (j >= 0) this.checkpoint[j] = 1;
      }
    }
    this.children = Array.from({ length: n }, () => []);
    for (const b of this.rpo) if (b !== 0) this.children[this.idom[b]].push(b);
  }

  protected isInternal(from: number, pc: number): number {
    const j = this.index.get(pc);
    if (j === undefined || this.order[j] < 0 || this.cut.has(from * this.u.blocks.length + j)) return -1;
    return j;
  }

  // ---- structured control (Ramsey) ----

  protected doTree(x: number): void {
    const ys = this.children[x].filter((c) => this.merge[c]).sort((a, b) => this.order[b] - this.order[a]);
    if (this.loopHeader[x]) {
      this.f.loop();
      this.ctx.push({ k: 'loop', block: x, level: this.f.depth });
      this.nodeWithin(x, ys, 0);
      this.ctx.pop();
      this.f.end();
    } else this.nodeWithin(x, ys, 0);
  }

  protected nodeWithin(x: number, ys: number[], from: number): void {
    if (from < ys.length) {
      const y = ys[from];
      this.f.block();
      this.ctx.push({ k: 'follow', block: y, level: this.f.depth });
      this.nodeWithin(x, ys, from + 1);
      this.ctx.pop();
      this.f.end();
      this.doTree(y);
      return;
    }
    this.blockBody(x);
  }

  /** Goes to guest pc from block `from`: within the unit when it is a block of it. */
  protected doBranch(from: number, pc: number): void {
    this.releaseLocals();
    const to = this.isInternal(from, pc);
    if (to < 0) {
      this.leaveTo(pc);
      return;
    }
    if (this.order[to] <= this.order[from]) this.f.br(this.depthOf('loop', to));
    else if (this.merge[to]) this.f.br(this.depthOf('follow', to));
    else this.doTree(to);
  }
}
