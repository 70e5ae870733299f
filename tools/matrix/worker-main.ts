// The body of a matrix worker thread: receives cells, runs each in this thread, and
// posts the result back. The catalog is loaded once per worker.

import { parentPort } from 'node:worker_threads';
import { loadCatalog } from '../node/catalog';
import type { Cell } from './cells';
import { runCell } from './run-cell';

const catalog = loadCatalog();

parentPort!.on('message', async (msg: { cell: Cell; metrics: string[]; timeoutMs: number }) => {
  const result = await runCell(msg.cell, msg.metrics, catalog, msg.timeoutMs);
  parentPort!.postMessage(result);
});
