// Names the plugin that hangs boot. A plugin whose lifecycle.boot loops forever blocks
// the main thread, so no handler there can run — not even one for Ctrl-C. The step of
// boot under way (Simulation's onBootPhase) is written into shared memory, and a worker
// thread watches it: when one step lasts longer than `afterMs`, the worker writes a line
// naming the plugin straight to file descriptor 2 (a worker's process.stderr goes
// through the blocked main thread), so the user knows what to blame before pressing
// Ctrl-C.

import { Worker } from 'node:worker_threads';
import type { BootPhase } from 'virtlab';

/** Bytes of the step's text kept in shared memory. */
const TEXT_BYTES = 512;

// Plain JavaScript, evaluated in the worker: no TypeScript loader needed there.
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const i32 = new Int32Array(workerData.sab, 0, 2);
const bytes = new Uint8Array(workerData.sab, 8);
let seen = -1, since = Date.now(), told = false;
setInterval(() => {
  const seq = Atomics.load(i32, 0);
  if (seq !== seen) { seen = seq; since = Date.now(); told = false; return; }
  if (told || Date.now() - since < workerData.afterMs) return;
  told = true;
  const text = Buffer.from(bytes.subarray(0, Atomics.load(i32, 1))).toString('utf8');
  writeSync(2, 'virtlab: ' + text + ' for ' + ((Date.now() - since) / 1000).toFixed(1) + ' s; Ctrl-C stops the run\\n');
}, workerData.pollMs);
parentPort.postMessage('ready');
`;

/** How a step of boot reads in the watchdog's line. */
export function describeBootPhase(p: BootPhase): string {
  const what = { select: 'selecting plugins and building the schedule', register: 'registering', populate: 'lifecycle.populate', boot: 'lifecycle.boot', bootAsync: 'lifecycle.bootAsync', booted: 'booted' }[p.step];
  return p.plugin ? `plugin '${p.plugin}' has been in ${what}` : `boot has been ${what}`;
}

export class BootWatch {
  private readonly sab = new SharedArrayBuffer(8 + TEXT_BYTES);
  private readonly i32 = new Int32Array(this.sab, 0, 2);
  private readonly bytes = new Uint8Array(this.sab, 8);
  private readonly worker: Worker;
  private readonly encoder = new TextEncoder();

  private constructor(afterMs: number) {
    this.worker = new Worker(WORKER, { eval: true, workerData: { sab: this.sab, afterMs, pollMs: Math.min(250, Math.max(10, afterMs / 4)) } });
    this.worker.unref();
  }

  /**
   * Starts watching; a step that lasts `afterMs` gets one line. Resolves once the worker
   * runs: it starts through the main thread's event loop, which a hung boot blocks.
   */
  static async start(afterMs = 5000): Promise<BootWatch> {
    const w = new BootWatch(afterMs);
    await new Promise<void>((resolve, reject) => {
      w.worker.once('message', () => resolve());
      w.worker.once('error', reject);
    });
    return w;
  }

  /** Records the step under way (Simulation's onBootPhase). */
  readonly phase = (p: BootPhase): void => {
    const n = this.encoder.encodeInto(describeBootPhase(p), this.bytes).written;
    Atomics.store(this.i32, 1, n);
    Atomics.add(this.i32, 0, 1);
  };

  /** Stops the worker (boot is over, or failed). */
  stop(): Promise<number> {
    return this.worker.terminate();
  }
}
