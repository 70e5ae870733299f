// Flows that share links max-min fairly. Each flow follows a path of directed links
// and may carry a rate cap (a migration's bandwidth limit); rates are recomputed by
// progressive filling whenever a flow starts, ends or changes its cap, and flows then
// advance at constant rates until the next such event, so completion times are exact
// within a tick. Per-flow and per-link state lives in typed arrays; flow slots are
// reused through a free list.
//
// Units: bytes, bits per second, nanoseconds.

export interface FlowSnapshot {
  slots: number;
  alive: Uint8Array;
  remaining: Float64Array;
  cap: Float64Array;
  sent: Float64Array;
  paths: number[][];
  tags: string[];
  free: number[];
  linkBytes: Float64Array;
}

export class FlowNetwork {
  /** Capacity of each directed link, bit/s. */
  readonly capacity: Float64Array;
  /** Rate allocated on each link, bit/s. */
  readonly allocated: Float64Array;
  /** Bytes carried by each link since the start. */
  linkBytes: Float64Array;
  private slots = 0;
  private alive = new Uint8Array(16);
  private remaining = new Float64Array(16);
  private cap = new Float64Array(16);
  private rate = new Float64Array(16);
  private sent = new Float64Array(16);
  private paths: number[][] = [];
  private tags: string[] = [];
  private free: number[] = [];
  private dirty = false;
  /** Highest link utilization of the current allocation, and the highest since takePeakUtilization. */
  private utilization = 0;
  private peakUtilization = 0;
  /** Flows that ended at the instant whose completion handlers are running (see start). */
  private endedNow: Array<{ path: readonly number[]; cap: number; rate: number }> | null = null;

  constructor(capacities: ArrayLike<number>) {
    this.capacity = Float64Array.from(capacities);
    this.allocated = new Float64Array(this.capacity.length);
    this.linkBytes = new Float64Array(this.capacity.length);
  }

  /** Starts a flow of `bytes` (Infinity for a background flow); returns its id. */
  start(path: readonly number[], bytes: number, capBps = Infinity, tag = ''): number {
    const id = this.free.length ? this.free.pop()! : this.slots++;
    if (id >= this.alive.length) this.grow(id + 1);
    this.alive[id] = 1;
    this.liveCache = null;
    this.remaining[id] = bytes;
    this.cap[id] = capBps;
    this.rate[id] = 0;
    this.sent[id] = 0;
    // A frozen path (the network's cached routes) is shared; any other is copied.
    this.paths[id] = Object.isFrozen(path) ? (path as number[]) : [...path];
    this.tags[id] = tag;
    // A flow that takes the place of one that ended at this instant, on the same path
    // with the same cap (a migration's next round), leaves every max-min rate as it
    // was: it inherits the rate, and nothing is recomputed.
    const ended = this.endedNow;
    let same = -1;
    if (ended) {
      for (let i = 0; i < ended.length; i++) {
        const e = ended[i];
        if (e.cap === capBps && samePath(e.path, this.paths[id])) {
          same = i;
          break;
        }
      }
    }
    if (same >= 0) {
      this.rate[id] = ended![same].rate;
      ended!.splice(same, 1);
    } else this.dirty = true;
    return id;
  }

  /** Adds bytes to a live flow (a migration round queuing more pages). */
  addBytes(id: number, bytes: number): void {
    this.remaining[id] += bytes;
  }

  setCap(id: number, capBps: number): void {
    if (this.cap[id] !== capBps) {
      this.cap[id] = capBps;
      this.dirty = true;
    }
  }

  stop(id: number): void {
    if (!this.alive[id]) return;
    this.alive[id] = 0;
    this.liveCache = null;
    this.rate[id] = 0;
    this.free.push(id);
    this.dirty = true;
  }

  isAlive(id: number): boolean {
    return this.alive[id] === 1;
  }

  rateOf(id: number): number {
    if (this.dirty) this.recompute();
    return this.rate[id];
  }

  remainingOf(id: number): number {
    return this.remaining[id];
  }

  sentOf(id: number): number {
    return this.sent[id];
  }

  /** Live flows whose path crosses link `l`. */
  flowsOn(l: number): number {
    let n = 0;
    for (const f of this.live()) if (this.paths[f].includes(l)) n++;
    return n;
  }

  /** Live flows. */
  flows(): number[] {
    return [...this.live()];
  }

  /** Live flows in id order, rebuilt only after a flow started or ended (do not modify). */
  private liveCache: number[] | null = null;
  private live(): readonly number[] {
    if (this.liveCache) return this.liveCache;
    const out: number[] = [];
    for (let i = 0; i < this.slots; i++) if (this.alive[i]) out.push(i);
    return (this.liveCache = out);
  }

  /** Scratch arrays of recompute, kept between calls (it runs at every flow start and end). */
  private residual = new Float64Array(0);
  private linkCount = new Int32Array(0);
  private frozen = new Uint8Array(16);

  /** Max-min fair rates by progressive filling. */
  recompute(): void {
    this.dirty = false;
    const nl = this.capacity.length;
    if (this.residual.length !== nl) {
      this.residual = new Float64Array(nl);
      this.linkCount = new Int32Array(nl);
    }
    const residual = this.residual;
    const count = this.linkCount;
    residual.set(this.capacity);
    count.fill(0);
    const live = this.live();
    if (this.frozen.length < this.slots) this.frozen = new Uint8Array(this.alive.length);
    const frozen = this.frozen;
    frozen.fill(0);
    for (const f of live) {
      this.rate[f] = 0;
      for (const l of this.paths[f]) count[l]++;
    }
    let unfrozen = live.length;
    while (unfrozen > 0) {
      // The tightest constraint: a link's equal share, or a flow's own cap.
      let share = Infinity;
      for (let l = 0; l < nl; l++) if (count[l] > 0) share = Math.min(share, residual[l] / count[l]);
      for (const f of live) if (!frozen[f]) share = Math.min(share, this.cap[f] - this.rate[f]);
      if (!Number.isFinite(share)) share = 0;
      for (const f of live) if (!frozen[f]) this.rate[f] += share;
      for (let l = 0; l < nl; l++) residual[l] -= share * count[l];
      // Freeze flows on saturated links and flows at their cap.
      for (const f of live) {
        if (frozen[f]) continue;
        const capped = this.rate[f] >= this.cap[f] * (1 - 1e-12);
        const path = this.paths[f];
        let saturated = false;
        for (let i = 0; i < path.length; i++) if (residual[path[i]] <= this.capacity[path[i]] * 1e-12) saturated = true;
        if (capped || saturated || share === 0) {
          frozen[f] = 1;
          unfrozen--;
          for (const l of path) count[l]--;
        }
      }
    }
    this.allocated.fill(0);
    for (const f of live) for (const l of this.paths[f]) this.allocated[l] += this.rate[f];
    let util = 0;
    for (let l = 0; l < this.capacity.length; l++) util = Math.max(util, this.allocated[l] / this.capacity[l]);
    this.utilization = util;
    if (util > this.peakUtilization) this.peakUtilization = util;
  }

  /**
   * The highest link utilization (allocated over capacity) since the last call, over
   * every allocation in between, including those that lasted less than a tick.
   */
  takePeakUtilization(): number {
    const p = this.peakUtilization;
    this.peakUtilization = this.utilization;
    return p;
  }

  /**
   * Advances time by dtNs; returns the flows that finished, each with the time (ns
   * from the start of the step) at which its last byte left. Rates are recomputed at
   * each completion inside the step, so the result does not depend on the tick length.
   * `onDone` is called at each completion instant, before time moves on: a flow it
   * starts (the next round of a migration) competes from that instant, so several
   * short transfers may follow one another within one step.
   */
  advance(dtNs: number, onDone?: (flow: number, atNs: number) => void): Array<{ flow: number; atNs: number }> {
    const done: Array<{ flow: number; atNs: number }> = [];
    let t = 0;
    while (t < dtNs) {
      if (this.dirty) this.recompute();
      const live = this.live();
      if (!live.length) break;
      // Time to the next completion.
      let next = dtNs - t;
      for (const f of live) {
        const r = this.rate[f];
        if (r > 0 && Number.isFinite(this.remaining[f])) next = Math.min(next, (this.remaining[f] * 8 * 1e9) / r);
      }
      for (const f of live) {
        const bytes = (this.rate[f] * next) / 8e9;
        this.remaining[f] -= bytes;
        this.sent[f] += bytes;
        for (const l of this.paths[f]) this.linkBytes[l] += bytes;
      }
      t += next;
      let finished = 0;
      const ended: Array<{ path: readonly number[]; cap: number; rate: number }> = [];
      for (const f of live) {
        if (this.remaining[f] <= 1e-6 * Math.max(1, this.sent[f])) {
          this.remaining[f] = 0;
          done.push({ flow: f, atNs: t });
          ended.push({ path: this.paths[f], cap: this.cap[f], rate: this.rate[f] });
          this.alive[f] = 0;
          this.liveCache = null;
          this.rate[f] = 0;
          finished++;
        }
      }
      // The ids of flows that finished together are freed only after every handler ran,
      // so a flow a handler starts never takes the id of one still being reported.
      if (finished) {
        this.endedNow = ended;
        try {
          if (onDone) for (let i = done.length - finished; i < done.length; i++) onDone(done[i].flow, done[i].atNs);
        } finally {
          this.endedNow = null;
        }
        // Ended flows that no new flow replaced change the rates.
        if (ended.length) this.dirty = true;
      }
      for (let i = done.length - finished; i < done.length; i++) this.free.push(done[i].flow);
      if (!finished && next === 0) break;
    }
    return done;
  }

  /**
   * Time from now until the first live flow (of those `include` accepts) delivers its
   * last byte at the current rates, ns (Infinity when no finite flow moves).
   */
  nextCompletionNs(include?: (flow: number) => boolean): number {
    if (this.dirty) this.recompute();
    let next = Infinity;
    for (let f = 0; f < this.slots; f++) {
      if (!this.alive[f] || (include && !include(f))) continue;
      const r = this.rate[f];
      if (r > 0 && Number.isFinite(this.remaining[f])) next = Math.min(next, (this.remaining[f] * 8 * 1e9) / r);
    }
    return next;
  }

  private grow(n: number): void {
    let size = this.alive.length;
    while (size < n) size *= 2;
    const g = <T extends Uint8Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as { new (n: number): T })(size);
      b.set(a);
      return b;
    };
    this.alive = g(this.alive);
    this.remaining = g(this.remaining);
    this.cap = g(this.cap);
    this.rate = g(this.rate);
    this.sent = g(this.sent);
  }

  snapshot(): FlowSnapshot {
    return {
      slots: this.slots,
      alive: this.alive.slice(),
      remaining: this.remaining.slice(),
      cap: this.cap.slice(),
      sent: this.sent.slice(),
      paths: this.paths.map((p) => (p ? [...p] : [])),
      tags: [...this.tags],
      free: [...this.free],
      linkBytes: this.linkBytes.slice(),
    };
  }

  restore(s: FlowSnapshot): void {
    this.slots = s.slots;
    this.alive = s.alive.slice();
    this.liveCache = null;
    this.remaining = s.remaining.slice();
    this.cap = s.cap.slice();
    this.rate = new Float64Array(this.alive.length);
    this.sent = s.sent.slice();
    this.paths = s.paths.map((p) => [...p]);
    this.tags = [...s.tags];
    this.free = [...s.free];
    this.linkBytes = s.linkBytes.slice();
    this.dirty = true;
    this.utilization = 0;
    this.peakUtilization = 0;
  }
}

function samePath(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
