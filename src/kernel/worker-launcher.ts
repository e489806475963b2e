import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { AaosError, ErrorCode, fromPlainError, type PlainError } from '../errors/index.js';
import type { StartMessage } from '../protocol/index.js';
import { builtPath } from './built-path.js';
import { Gate } from './gate.js';

export interface LaunchOptions {
  /** file path or URL of the module exporting `agentModule` (built JS) */
  module: string;
  maxHeapMb: number;
  name: string;
  readyTimeoutMs?: number;
}

export interface LaunchedWorker {
  worker: Worker;
  port: MessagePort;
  module: string;
  maxHeapMb: number;
}

export const DEFAULT_AGENT_MODULE = (): string => pathToFileURL(builtPath('src/agent/llm-agent.js')).href;

function moduleUrl(module: string): string {
  return module.startsWith('file:') ? module : pathToFileURL(module).href;
}

/**
 * Starts workers on the one generic entry, at most `concurrency` booting at a time,
 * and terminates them one after another with a small gap.
 */
export class WorkerLauncher {
  private readonly bootGate: Gate;
  private readonly termGate = new Gate(1);
  private entry: string | undefined;

  constructor(concurrency = Math.max(1, availableParallelism())) {
    this.bootGate = new Gate(concurrency);
  }

  launch(opts: LaunchOptions): Promise<LaunchedWorker> {
    return this.bootGate.run(() => this.boot(opts));
  }

  private boot(opts: LaunchOptions): Promise<LaunchedWorker> {
    this.entry ??= builtPath('workers/entry.js');
    const module = moduleUrl(opts.module);
    const worker = new Worker(this.entry, {
      env: {}, // no secrets: the worker's process.env is empty
      name: opts.name,
      resourceLimits: { maxOldGenerationSizeMb: opts.maxHeapMb },
      stdout: false,
      stderr: false,
    });
    const { port1, port2 } = new MessageChannel();
    return new Promise<LaunchedWorker>((resolve, reject) => {
      const timer = setTimeout(
        () => fail(new AaosError(ErrorCode.WORKER_START_FAILED, `worker for ${opts.name} sent no READY within ${opts.readyTimeoutMs ?? 15000} ms`)),
        opts.readyTimeoutMs ?? 15_000,
      );
      const cleanup = (): void => {
        clearTimeout(timer);
        worker.off('error', onError);
        worker.off('exit', onExit);
        worker.off('message', onParent);
        port1.off('message', onReady);
      };
      const fail = (err: AaosError): void => {
        cleanup();
        port1.close();
        void this.terminate(worker);
        reject(err);
      };
      const onError = (err: Error): void =>
        fail(new AaosError(ErrorCode.WORKER_START_FAILED, `worker for ${opts.name} failed to start: ${err.message}`, { module }));
      const onExit = (code: number): void =>
        fail(new AaosError(ErrorCode.WORKER_START_FAILED, `worker for ${opts.name} exited with code ${code} before READY`, { module }));
      const onParent = (msg: { t?: string; error?: PlainError }): void => {
        if (msg?.t === 'start_failed' && msg.error) {
          const cause = fromPlainError(msg.error);
          fail(new AaosError(ErrorCode.WORKER_START_FAILED, `worker for ${opts.name} could not load ${module}: ${cause.message}`, { module }));
        }
      };
      const onReady = (msg: { t?: string }): void => {
        if (msg?.t !== 'ready') return;
        cleanup();
        resolve({ worker, port: port1, module, maxHeapMb: opts.maxHeapMb });
      };
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.on('message', onParent);
      port1.on('message', onReady);
      const start: StartMessage = { t: 'start', module, port: port2 };
      worker.postMessage(start, [port2]);
    });
  }

  /** Serialised termination with a short gap (see Gate). Never throws. */
  terminate(worker: Worker): Promise<void> {
    return this.termGate.run(async () => {
      try {
        await worker.terminate();
      } catch {
        // already gone
      }
      await new Promise((r) => setTimeout(r, 2));
    });
  }
}
