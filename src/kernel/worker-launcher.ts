import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { AaosError, ErrorCode, fromPlainError } from '../errors/index.js';
import type { StartMessage, WorkerToParent, WorkerToSupervisor } from '../protocol/index.js';
import { wrap, type Remote } from 'comlink';
import type { ControlApi } from '../agent/control.js';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { builtPath } from '../config/built-path.js';
import { Gate } from './gate.js';

export interface LaunchOptions {
  /** file path or URL of the module exporting `agentModule` (built JS) */
  module: string;
  maxHeapMb: number;
  name: string;
  readyTimeoutMs?: number;
  /** pre-started for the warm pool: let the module warm up its code first */
  warm?: boolean;
  /** the work the worker is for was cancelled: do not boot it (checked when its turn to boot comes) */
  signal?: AbortSignal;
}

export interface LaunchedWorker {
  worker: Worker;
  port: MessagePort;
  /** comlink proxy of the worker's control channel (low-rate introspection) */
  control: Remote<ControlApi>;
  controlPort: MessagePort;
  module: string;
  maxHeapMb: number;
}

export const DEFAULT_AGENT_MODULE = (): string => pathToFileURL(builtPath('src/agent/llm-agent.js')).href;

/** How long a refill waits for the agents that drained the pool before it boots replacements anyway. */
const REFILL_MAX_DEFER_MS = 5000;
/** The pause in acquisitions a refill waits for, and how often it looks again while it defers. */
const REFILL_PAUSE_MS = 100;

/**
 * Whether a drained pool should boot replacements now. Booting competes for the cores with
 * the agents that drained it (a fan-out of 500 children ran ~40 % more CPU when the pool
 * refilled under it), so a refill waits until at most half of the workers it lent are still
 * running and none has started or ended for a moment (`settledMs`: a burst's agents end
 * together, and the agent that started them still has its last turn to take, which a boot at
 * the supervisor's priority would starve), unless acquisitions have been quiet for
 * `maxDeferMs` (long-lived agents holding their pooled workers must not leave the pool empty
 * for good).
 */
function refillDue(
  lentRunning: number,
  target: number,
  settledMs: number,
  sinceAcquireMs: number,
  maxDeferMs: number,
): boolean {
  return (lentRunning <= target / 2 && settledMs >= REFILL_PAUSE_MS) || sinceAcquireMs >= maxDeferMs;
}

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
  /** pre-started workers (module loaded, READY, no agent yet), by module and heap limit */
  private readonly warm = new Map<string, LaunchedWorker[]>();
  private readonly warmTarget = new Map<string, number>();
  private readonly refilling = new Set<string>();
  private readonly refillTimers = new Map<string, NodeJS.Timeout>();
  /** workers handed out from the pool and not yet terminated, by pool key */
  private readonly lent = new Map<string, Set<Worker>>();
  private readonly lentKey = new Map<Worker, string>();
  private readonly lastAcquire = new Map<string, number>();
  /** when a lent worker of the pool last ended */
  private readonly lastReturn = new Map<string, number>();
  private readonly terminating = new Set<Promise<void>>();
  private closed = false;

  constructor(
    concurrency = Math.max(1, availableParallelism()),
    /** niceness of agent threads relative to the supervisor (0 = same priority) */
    private readonly nice = 0,
    /** see refillDue */
    private readonly refillMaxDeferMs = REFILL_MAX_DEFER_MS,
  ) {
    this.bootGate = new Gate(concurrency);
  }

  launch(opts: LaunchOptions): Promise<LaunchedWorker> {
    return this.bootGate.run(async () => {
      if (opts.signal?.aborted)
        throw new AaosError(ErrorCode.CANCELLED, `worker ${opts.name} not started: its work was cancelled`);
      return this.boot(opts);
    });
  }

  /**
   * Keep `count` workers for this module pre-started, so a spawn only costs the init
   * message. They boot in the background through the same bounded gate.
   */
  prewarm(module: string, maxHeapMb: number, count: number): void {
    const key = `${moduleUrl(module)}|${maxHeapMb}`;
    this.warmTarget.set(key, count);
    this.refill(key, moduleUrl(module), maxHeapMb);
  }

  /** A pre-started worker when one is ready, else a fresh one. */
  acquire(opts: LaunchOptions): Promise<LaunchedWorker> {
    const module = moduleUrl(opts.module);
    const key = `${module}|${opts.maxHeapMb}`;
    const ready = this.warm.get(key)?.pop();
    if (this.warmTarget.has(key)) {
      this.lastAcquire.set(key, performance.now());
      this.scheduleRefill(key, module, opts.maxHeapMb);
    }
    if (ready) {
      ready.worker.removeAllListeners('exit');
      let lent = this.lent.get(key);
      if (!lent) this.lent.set(key, (lent = new Set()));
      lent.add(ready.worker);
      this.lentKey.set(ready.worker, key);
      return Promise.resolve(ready);
    }
    return this.launch(opts);
  }

  /** pools booting replacements right now */
  get refillsUnderWay(): number {
    return this.refilling.size;
  }

  get warmCount(): number {
    let n = 0;
    for (const list of this.warm.values()) n += list.length;
    return n;
  }

  /**
   * Refill once spawning has paused for a moment and the agents it started are mostly done
   * (`refillDue`): booting replacements in the middle of a burst would compete with the very
   * agents that burst is running.
   */
  private scheduleRefill(key: string, module: string, maxHeapMb: number): void {
    clearTimeout(this.refillTimers.get(key));
    const timer = setTimeout(() => {
      this.refillTimers.delete(key);
      const now = performance.now();
      const acquired = this.lastAcquire.get(key) ?? 0;
      const settled = now - Math.max(acquired, this.lastReturn.get(key) ?? 0);
      const lentRunning = this.lent.get(key)?.size ?? 0;
      if (refillDue(lentRunning, this.warmTarget.get(key) ?? 0, settled, now - acquired, this.refillMaxDeferMs))
        this.refill(key, module, maxHeapMb);
      else this.scheduleRefill(key, module, maxHeapMb);
    }, REFILL_PAUSE_MS);
    timer.unref();
    this.refillTimers.set(key, timer);
  }

  private refill(key: string, module: string, maxHeapMb: number): void {
    if (this.refilling.has(key) || this.closed) return;
    this.refilling.add(key);
    void (async () => {
      try {
        while (!this.closed && (this.warm.get(key)?.length ?? 0) < (this.warmTarget.get(key) ?? 0)) {
          const w = await this.launch({ module, maxHeapMb, name: 'warm', warm: true });
          if (this.closed) {
            await this.terminate(w.worker);
            return;
          }
          const list = this.warm.get(key) ?? [];
          this.warm.set(key, list);
          list.push(w);
          // a pre-started worker that dies while idle just leaves the pool
          w.worker.once('exit', () => {
            const i = list.indexOf(w);
            if (i >= 0) list.splice(i, 1);
          });
          w.worker.on('error', () => {});
        }
      } catch {
        // a failed pre-start is not fatal: spawns fall back to starting their own worker
      } finally {
        this.refilling.delete(key);
      }
    })();
  }

  /** Stop pre-starting and end the idle pre-started workers. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.refillTimers.values()) clearTimeout(timer);
    this.refillTimers.clear();
    const idle = [...this.warm.values()].flat();
    this.warm.clear();
    for (const w of idle) {
      w.port.close();
      w.controlPort.close();
      void this.terminate(w.worker);
    }
    while (this.terminating.size > 0) await Promise.all([...this.terminating]);
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
    const controlChannel = new MessageChannel();
    return new Promise<LaunchedWorker>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          fail(
            new AaosError(
              ErrorCode.WORKER_START_FAILED,
              `worker for ${opts.name} sent no READY within ${opts.readyTimeoutMs ?? 15000} ms`,
            ),
          ),
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
        controlChannel.port1.close();
        void this.terminate(worker);
        reject(err);
      };
      const onError = (err: Error): void =>
        fail(
          new AaosError(ErrorCode.WORKER_START_FAILED, `worker for ${opts.name} failed to start: ${err.message}`, {
            module,
          }),
        );
      const onExit = (code: number): void =>
        fail(
          new AaosError(
            ErrorCode.WORKER_START_FAILED,
            `worker for ${opts.name} exited with code ${code} before READY`,
            { module },
          ),
        );
      const onParent = (msg: WorkerToParent): void => {
        if (msg?.t === 'start_failed' && msg.error) {
          const cause = fromPlainError(msg.error);
          fail(
            new AaosError(
              ErrorCode.WORKER_START_FAILED,
              `worker for ${opts.name} could not load ${module}: ${cause.message}`,
              { module },
            ),
          );
        }
      };
      const onReady = (msg: WorkerToSupervisor): void => {
        if (msg?.t !== 'ready') return;
        cleanup();
        resolve({
          worker,
          port: port1,
          control: wrap<ControlApi>(nodeEndpoint(controlChannel.port1)),
          controlPort: controlChannel.port1,
          module,
          maxHeapMb: opts.maxHeapMb,
        });
      };
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.on('message', onParent);
      port1.on('message', onReady);
      const start: StartMessage = {
        t: 'start',
        module,
        port: port2,
        control: controlChannel.port2,
        ...(opts.warm ? { warm: true } : {}),
        ...(this.nice > 0 ? { nice: this.nice } : {}),
      };
      worker.postMessage(start, [port2, controlChannel.port2]);
    });
  }

  /**
   * Serialised termination with a short gap (see Gate). Never throws. Callers need not
   * wait: `close()` waits for every termination still under way.
   */
  terminate(worker: Worker): Promise<void> {
    const key = this.lentKey.get(worker);
    if (key !== undefined) {
      this.lentKey.delete(worker);
      this.lent.get(key)?.delete(worker);
      this.lastReturn.set(key, performance.now());
    }
    const done = this.termGate.run(async () => {
      try {
        await worker.terminate();
      } catch {
        // already gone
      }
      await new Promise((r) => setTimeout(r, 2));
    });
    this.terminating.add(done);
    void done.finally(() => this.terminating.delete(done));
    return done;
  }
}
