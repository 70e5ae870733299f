// The pacing of the visualizer's simulation worker without a browser: requested the way
// the page requests (one request in flight, at most one per animation frame, as many
// ticks as the credit buys), a worker whose ticks cost from 0.5 ms to more than two
// frames steps for at most WORKER_SHARE of the wall-clock time however many ticks the
// speed asks for, uses most of that share when the speed asks for more than it can
// give, and is not held back when the speed asks for less.
// Mutation that must break it: WorkerCredit.grow adding the whole frame interval (dtMs)
// instead of its share, or `spend` not taking the worker's time off the credit.
import { WORKER_SHARE, WorkerCredit } from '../../../tools/view/worker-credit';

const FRAME_MS = 1000 / 60;

/**
 * `seconds` of animation frames at 60 fps, the page asking for `ticksPerSecond` (its
 * budget accrues as the page's does), a worker that takes `tickMs` per tick and answers
 * when done. Returns the share of wall-clock time the worker stepped and the ticks run.
 */
function pace(tickMs: number, ticksPerSecond: number, seconds = 20): { share: number; ticks: number } {
  const credit = new WorkerCredit();
  let budget = 0;
  let busy = 0;
  let ticks = 0;
  let replyAt = -1;
  let cost = 0;
  const frames = Math.round((seconds * 1000) / FRAME_MS);
  for (let f = 0; f < frames; f++) {
    const now = f * FRAME_MS;
    if (replyAt >= 0 && replyAt <= now) {
      credit.spend(cost);
      replyAt = -1;
    }
    credit.grow(FRAME_MS);
    if (replyAt >= 0 || !credit.open) continue;
    budget += (FRAME_MS * ticksPerSecond) / 1000;
    budget = Math.min(budget, WorkerCredit.cap(1 / tickMs, credit.ms));
    const n = Math.floor(budget);
    if (n <= 0) continue;
    budget -= n;
    cost = n * tickMs;
    replyAt = now + cost;
    busy += cost;
    ticks += n;
  }
  return { share: busy / (seconds * 1000), ticks };
}

describe('the simulation worker’s pacing', () => {
  it.each([0.5, 4, 12, 40])('steps for at most its share of the time when ticks take %p ms and the speed asks for more', (tickMs) => {
    const { share } = pace(tickMs, 100_000);
    // One request's cost may run past the end of the measured span.
    expect(share).toBeLessThanOrEqual(WORKER_SHARE + tickMs / 20_000 + 1e-9);
    // And it is not starved: most of the share is used.
    expect(share).toBeGreaterThan(WORKER_SHARE * 0.6);
  });

  it('runs every tick the speed asks for when that costs less than its share', () => {
    // ×10 at a tick of 1 s: ten ticks a second of 4 ms each, 4% of the time.
    const { ticks, share } = pace(4, 10, 20);
    expect(ticks).toBeGreaterThanOrEqual(199);
    expect(share).toBeLessThan(0.05);
  });
});
