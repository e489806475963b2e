import { Piscina } from 'piscina';
import { builtPath } from '../../config/built-path.js';

/**
 * Small worker pools for file work that would otherwise hog the supervisor thread.
 * Each pool starts its threads on first use; tasks are plain data in and out; workers
 * get an empty environment (they need no secrets to read files). Aborting a task's
 * signal while it runs terminates its thread, which also stops a runaway regex.
 */
export interface TaskPoolOptions {
  maxThreads: number;
  /**
   * tasks one thread takes at once. Above 1 only for I/O-bound tasks: a CPU-bound task
   * blocks its thread, and every task queued on that thread waits behind it.
   */
  concurrentTasksPerWorker: number;
}

const IDLE_TIMEOUT_MS = 30_000;
const pools = new Set<TaskPool>();

export class TaskPool {
  private pool: Piscina | undefined;

  constructor(private readonly options: TaskPoolOptions) {
    pools.add(this);
  }

  /**
   * Runs a named export of a task module. `taskModule` is relative to the project root,
   * e.g. `src/tools/fs/read-task.js` (loaded from dist/).
   */
  run<R>(taskModule: string, exportName: string, task: unknown, signal?: AbortSignal): Promise<R> {
    this.pool ??= new Piscina({ minThreads: 0, idleTimeout: IDLE_TIMEOUT_MS, env: {}, ...this.options });
    const filename = builtPath(taskModule);
    return this.pool.run(task, {
      filename,
      name: exportName,
      ...(signal !== undefined ? { signal } : {}),
    }) as Promise<R>;
  }

  /** Ends the threads; a later task starts fresh ones. */
  async close(): Promise<void> {
    const current = this.pool;
    this.pool = undefined;
    if (current !== undefined) await current.close({ force: true });
  }
}

/** Batched reads: I/O-bound and bounded by the file cap, so several share a thread. */
const readPool = new TaskPool({ maxThreads: 2, concurrentTasksPerWorker: 4 });

export function runIoTask<R>(taskModule: string, exportName: string, task: unknown, signal?: AbortSignal): Promise<R> {
  return readPool.run<R>(taskModule, exportName, task, signal);
}

/** Shuts every file-tool pool down (supervisor shutdown, tests). */
export async function closeIoPool(): Promise<void> {
  await Promise.all([...pools].map((p) => p.close()));
}
