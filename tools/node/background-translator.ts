// The translation server of `virtlab exec --background-compile`, on a worker thread:
// the guest's runtime sends it requests (core/models/dbt/remote.ts) and goes on
// interpreting; the worker boots the same engine plugin (and any others given) as the
// guest's, lifts, runs the passes, encodes and compiles there, and posts each
// translation back. Replies are picked up without waiting (receiveMessageOnPort)
// whenever the runtime's dispatcher runs, since the guest's run loop does not yield
// to the event loop. The worker starts booting when the guest is launched (the
// runtime translates on its own thread until it is ready) and never keeps the
// process alive.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { BackgroundTranslator, RemoteInit, RemoteReply, RemoteRequest } from 'virtlab';

/** The engine the worker boots: exec's --engine, --option and --plugin. */
export interface EngineSpec {
  readonly engine: string;
  readonly options: Record<string, unknown>;
  readonly plugins: ReadonlyArray<string | readonly [string, Record<string, unknown>]>;
}

export interface BackgroundTranslatorOptions {
  /** Tests: delay each translation by up to this many milliseconds (pseudo-random from `seed`), a loaded machine. */
  readonly delayMs?: number;
  readonly seed?: number;
}

/**
 * The worker's compiled module. The build's copy sits beside this one; from the
 * TypeScript (tests), the build's (jest's global setup makes it), since a worker
 * thread cannot load TypeScript.
 */
function workerFile(): string | null {
  if (__filename.endsWith('.js')) return path.join(__dirname, 'translation-worker.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dir = (require('../build/build.js') as { freshBuild(): string | null }).freshBuild();
  return dir ? path.join(dir, 'tools', 'node', 'translation-worker.js') : null;
}

export class WorkerTranslator implements BackgroundTranslator {
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private failed: string | undefined;
  private booted = false;
  private readonly early: RemoteReply[] = [];

  /** Can a worker be started here? Not without a compiled build (a worker thread runs no TypeScript). */
  static available(): boolean {
    return workerFile() !== null;
  }

  constructor(
    private readonly spec: EngineSpec,
    private readonly options: BackgroundTranslatorOptions = {},
  ) {}

  boot(): void {
    const file = workerFile();
    if (!file) throw new Error('background translation needs the compiled build (npm run build)');
    const { port1, port2 } = new MessageChannel();
    // The worker loads its modules as the command did: from the build's code cache,
    // with its precompiled validators (tools/build/), when this is the build's copy.
    const buildDir = path.resolve(path.dirname(file), '..', '..');
    const tools = path.resolve(buildDir, '..', '..', 'tools', 'build');
    const start = existsSync(path.join(tools, 'code-cache.js'))
      ? `require(${JSON.stringify(path.join(tools, 'code-cache.js'))}).install(${JSON.stringify(buildDir)});\nrequire(${JSON.stringify(path.join(tools, 'validators.js'))}).installPrecompiled(${JSON.stringify(buildDir)});\nrequire(${JSON.stringify(file)});`
      : `require(${JSON.stringify(file)});`;
    this.worker = new Worker(start, {
      eval: true,
      workerData: { spec: this.spec, port: port2, delayMs: this.options.delayMs ?? 0, seed: this.options.seed ?? 1 },
      transferList: [port2],
    });
    // Neither keeps the process alive: a guest that exits leaves nothing waiting.
    this.worker.unref();
    port1.unref();
    this.port = port1;
  }

  ready(): boolean {
    if (!this.booted) this.early.push(...this.read());
    return this.booted;
  }

  start(init: RemoteInit): void {
    this.worker!.postMessage(init, [init.pages.bytes.buffer as ArrayBuffer]);
  }

  submit(request: RemoteRequest): void {
    this.worker!.postMessage(request, request.pages ? [request.pages.bytes.buffer as ArrayBuffer] : []);
  }

  poll(): RemoteReply[] {
    const out = this.early.splice(0);
    out.push(...this.read());
    return out;
  }

  private read(): RemoteReply[] {
    const out: RemoteReply[] = [];
    if (!this.port) return out;
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
      const msg = m.message as RemoteReply | { error: string } | { ready: true };
      if ('error' in msg) this.failed = msg.error;
      else if ('ready' in msg) this.booted = true;
      else out.push(msg);
    }
    if (this.failed !== undefined) throw new Error(`background translation failed: ${this.failed}`);
    return out;
  }

  /** Stops the worker (translations under way are dropped). */
  close(): Promise<number> | undefined {
    this.port?.close();
    return this.worker?.terminate();
  }
}
