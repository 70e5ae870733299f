// The body of a matrix worker thread: receives cells, runs each in this thread, and
// posts the result back. Each cell loads its scenario, and the plugins it may use,
// through the scenario loader.

import { parentPort } from 'node:worker_threads';
import type { Cell } from './cells';
import { runCell } from './run-cell';

parentPort!.on('message', async (msg: { cell: Cell; metrics: string[]; timeoutMs: number }) => {
  const result = await runCell(msg.cell, msg.metrics, msg.timeoutMs);
  parentPort!.postMessage(result);
});
