import { Piscina } from 'piscina';
import { builtPath } from '../../kernel/built-path.js';

/**
 * A small worker pool for file I/O that would otherwise hog the supervisor thread
 * (batched reads, tree searches). Created on first use; tasks are plain-data in and
 * out. Workers get an empty environment: they need no secrets to read files.
 */
let pool: Piscina | undefined;

const IDLE_TIMEOUT_MS = 30_000;

function ioPool(): Piscina {
  if (pool === undefined) {
    pool = new Piscina({
      minThreads: 0,
      maxThreads: 2,
      concurrentTasksPerWorker: 4,
      idleTimeout: IDLE_TIMEOUT_MS,
      env: {},
    });
  }
  return pool;
}

/**
 * Runs a named export of a task module on the pool. `taskModule` is relative to the
 * project root, e.g. `src/tools/fs/read-task.js` (loaded from dist/). Aborting the
 * signal terminates the task's worker, which also stops a runaway regex.
 */
export function runIoTask<R>(taskModule: string, exportName: string, task: unknown, signal?: AbortSignal): Promise<R> {
  const filename = builtPath(taskModule);
  return ioPool().run(task, { filename, name: exportName, ...(signal !== undefined ? { signal } : {}) }) as Promise<R>;
}

/** Shuts the pool down (supervisor shutdown, tests). A later task creates a fresh pool. */
export async function closeIoPool(): Promise<void> {
  const current = pool;
  pool = undefined;
  if (current !== undefined) await current.close();
}
