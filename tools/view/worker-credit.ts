// The simulation worker's share of the CPU, as the page paces its requests. Each pane
// holds a credit of the worker's time: it grows by WORKER_SHARE of every animation
// frame's interval, up to WORKER_CREDIT_MS; a request asks for as many ticks as the
// credit buys at the worker's measured rate (one at least); the time the worker took to
// step and build the frame is taken off it when the frame arrives; and no request goes
// out while it is not positive. On a machine of two cores the worker would otherwise
// step without pause at high speeds (a tick of 10,000 VMs takes a few ms), and the
// page's main thread, its compositor and the browser's would wait for a core. When the
// speed set asks for more, the simulation runs slower than that speed, which the page
// shows (its clock is the simulation's). A module of its own, free of the renderer, so
// that its arithmetic is tested alone.

/** The share of wall-clock time the worker may step. */
export const WORKER_SHARE = 0.5;
/** The most credit a pane keeps: about two frames' share at 60 fps, so that a pause is not followed by a burst. */
export const WORKER_CREDIT_MS = (2 * WORKER_SHARE * 1000) / 60;

export class WorkerCredit {
  /** The worker's time (ms) that may still be asked for; negative after an answer that took longer than the credit. */
  ms = 0;

  /** An animation frame, `dtMs` after the one before. */
  grow(dtMs: number): void {
    this.ms = Math.min(WORKER_CREDIT_MS, this.ms + dtMs * WORKER_SHARE);
  }

  /** A frame arrived that took the worker `ms` to step and build. */
  spend(ms: number): void {
    this.ms -= ms;
  }

  /** Whether the worker may be asked to step. */
  get open(): boolean {
    return this.ms > 0;
  }

  /**
   * The most ticks a request may ask for, at `ticksPerMs` (the worker's measured rate;
   * 0 before it is known), with `credit` ms to spend: at least one.
   */
  static cap(ticksPerMs: number, credit: number): number {
    return ticksPerMs > 0 ? Math.max(1, ticksPerMs * credit) : 8;
  }
}
