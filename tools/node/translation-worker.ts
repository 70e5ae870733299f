// The worker thread of the background translator (background-translator.ts): boots
// the guest's engine plugin in a simulation of its own, as exec does, says it is
// ready, and serves the runtime's requests with a TranslationServer over a mirror of the guest's code
// (core/models/dbt/remote.ts). Failures go back as messages, since the guest's
// thread reads this worker's port without running its event loop.

import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { remoteTranslatorOf, TranslationServer, type RemoteCapableEngine, type RemoteInit, type RemoteRequest } from 'virtlab';
import { resolveEngine } from '../cli/exec';
import type { EngineSpec } from './background-translator';

interface Data {
  readonly spec: EngineSpec;
  readonly port: MessagePort;
  readonly delayMs: number;
  readonly seed: number;
}

const data = workerData as Data;
const port = data.port;
const queue: RemoteRequest[] = [];
let translatorFor: RemoteCapableEngine['remoteTranslator'] | undefined;
let server: TranslationServer | undefined;
let failed = false;
const pause = new Int32Array(new SharedArrayBuffer(4));
let seed = data.seed >>> 0;

function fail(e: unknown): void {
  failed = true;
  port.postMessage({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
}

function serve(): void {
  while (server && !failed && queue.length) {
    const request = queue.shift()!;
    if (data.delayMs > 0) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      Atomics.wait(pause, 0, 0, seed % (data.delayMs + 1));
    }
    try {
      port.postMessage(server.handle(request));
    } catch (e) {
      fail(e);
    }
  }
}

// The first message, once the engine is ready, is the mirror's start; the others are requests.
parentPort!.on('message', (message: RemoteInit | RemoteRequest) => {
  if (failed) return;
  if (!server) {
    try {
      server = new TranslationServer(translatorFor!, message as RemoteInit, () => performance.now());
    } catch (e) {
      fail(e);
    }
    return;
  }
  queue.push(message as RemoteRequest);
  serve();
});

resolveEngine(data.spec.engine, data.spec.options, data.spec.plugins)
  .then((engine) => {
    translatorFor = remoteTranslatorOf(engine);
    if (!translatorFor) throw new Error(`engine ${engine.id} cannot translate on a worker`);
    port.postMessage({ ready: true });
  })
  .catch(fail);
