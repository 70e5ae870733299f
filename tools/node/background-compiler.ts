// The background compiler of `virtlab exec`: compiles translated WebAssembly modules on
// a worker thread while the guest goes on (interpreted) on this one, so that
// translation costs the guest only the lifting and encoding, and Instrew's eager mode
// (translate every region on first execution) costs it nothing it would not spend
// anyway. Finished modules are picked up without waiting, by polling the reply port
// (receiveMessageOnPort) whenever the engine's dispatcher runs. The worker starts with
// the first module (an interpreted guest never starts it) and never keeps the process
// alive.

import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { BackgroundCompiler } from 'virtlab';

/** The worker's code: compile each module it is sent and post it back with the time it took. */
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const delay = workerData.delayMs;
const pause = new Int32Array(new SharedArrayBuffer(4));
let seed = workerData.seed >>> 0;
parentPort.on('message', ({ ticket, bytes }) => {
  if (delay > 0) {
    // A loaded machine, for tests: each module takes up to delayMs longer.
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    Atomics.wait(pause, 0, 0, seed % (delay + 1));
  }
  const t0 = performance.now();
  const module = new WebAssembly.Module(bytes);
  workerData.port.postMessage({ ticket, module, compileMs: performance.now() - t0 });
});
`;

export interface BackgroundCompilerOptions {
  /** Tests: delay each module by up to this many milliseconds (pseudo-random from `seed`). */
  readonly delayMs?: number;
  readonly seed?: number;
}

export class WorkerCompiler implements BackgroundCompiler {
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private next = 0;

  constructor(private readonly options: BackgroundCompilerOptions = {}) {}

  submit(bytes: Uint8Array): number {
    if (!this.worker) {
      const { port1, port2 } = new MessageChannel();
      this.worker = new Worker(WORKER, { eval: true, workerData: { port: port2, delayMs: this.options.delayMs ?? 0, seed: this.options.seed ?? 1 }, transferList: [port2] });
      // Neither keeps the process alive: a guest that exits leaves nothing waiting.
      this.worker.unref();
      port1.unref();
      this.port = port1;
    }
    const ticket = this.next++;
    this.worker.postMessage({ ticket, bytes });
    return ticket;
  }

  poll(): Array<{ ticket: number; module: WebAssembly.Module; compileMs: number }> {
    const out: Array<{ ticket: number; module: WebAssembly.Module; compileMs: number }> = [];
    if (!this.port) return out;
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) out.push(m.message as (typeof out)[number]);
    return out;
  }

  /** Stops the worker (modules still being compiled are dropped). */
  close(): Promise<number> | undefined {
    this.port?.close();
    return this.worker?.terminate();
  }
}
