// The event queue of one packet experiment: a binary heap of callbacks keyed by
// (time, insertion order), so that two events at the same instant run in the order
// they were scheduled and runs are deterministic. Packets, core completions and TCP
// timers are its events; an experiment advances by popping them, never by scanning
// hosts per tick, so an experiment that moves no packets costs nothing.

export class EventQueue {
  private times: number[] = [];
  private orders: number[] = [];
  private fns: Array<() => void> = [];
  private counter = 0;
  /** Time of the event being run (or of the last one run), ns. */
  now = 0;
  /** Events run so far. */
  processed = 0;

  get size(): number {
    return this.times.length;
  }

  /** Time of the earliest pending event, ns (Infinity when none). */
  peek(): number {
    return this.times.length ? this.times[0] : Infinity;
  }

  at(timeNs: number, fn: () => void): void {
    if (timeNs < this.now) timeNs = this.now;
    const t = this.times;
    const o = this.orders;
    const f = this.fns;
    let i = t.length;
    t.push(timeNs);
    o.push(this.counter++);
    f.push(fn);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (t[p] < timeNs || (t[p] === timeNs && o[p] < o[i])) break;
      this.swap(i, p);
      i = p;
    }
  }

  /** Runs every event at or before `untilNs`, in order; events they schedule run too if due. */
  runUntil(untilNs: number): void {
    while (this.times.length && this.times[0] <= untilNs) {
      const time = this.times[0];
      const fn = this.fns[0];
      this.pop();
      this.now = time;
      this.processed++;
      fn();
    }
    if (untilNs > this.now && Number.isFinite(untilNs)) this.now = untilNs;
  }

  private pop(): void {
    const t = this.times;
    const last = t.length - 1;
    this.swap(0, last);
    t.pop();
    this.orders.pop();
    this.fns.pop();
    let i = 0;
    const n = t.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }

  private less(a: number, b: number): boolean {
    const t = this.times;
    return t[a] < t[b] || (t[a] === t[b] && this.orders[a] < this.orders[b]);
  }

  private swap(a: number, b: number): void {
    const t = this.times;
    const o = this.orders;
    const f = this.fns;
    [t[a], t[b]] = [t[b], t[a]];
    [o[a], o[b]] = [o[b], o[a]];
    [f[a], f[b]] = [f[b], f[a]];
  }
}
