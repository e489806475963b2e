import { Worker } from 'node:worker_threads';
import { builtPath } from '../kernel/built-path.js';
import { STORE_DBS } from './lmdb-env.js';

export interface AuditWriterData {
  /** the store environment's directory (`Store.path`) */
  path: string;
  maxDbs: number;
}

export type ToAuditWriter = { t: 'batch'; first: number; at: number; json: string } | { t: 'close' };
export type FromAuditWriter = { t: 'done'; firsts: number[]; ok: true } | { t: 'done'; firsts: number[]; ok: false; error: string } | { t: 'closed' };

/**
 * The supervisor's side of the audit writer thread (audit-writer-thread.ts): batches go
 * over as one string each, and each `write` settles when its batch is committed (or
 * rejects with why it was not). Started on the first batch; a writer thread that dies
 * fails what it held, and the next batch starts a new one.
 */
export class AuditWriter {
  readonly #data: AuditWriterData;
  #worker: Worker | undefined;
  readonly #waiting = new Map<number, { resolve(): void; reject(err: Error): void }>();

  constructor(storePath: string) {
    this.#data = { path: storePath, maxDbs: STORE_DBS.length + 4 };
  }

  /** Hands over one batch (JSON text of its events); resolves once it is committed. */
  write(first: number, at: number, json: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.set(first, { resolve, reject });
      this.#thread().postMessage({ t: 'batch', first, at, json } satisfies ToAuditWriter);
    });
  }

  /** Writes what was handed over, then ends the thread. */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.on('message', (msg: FromAuditWriter) => {
        if (msg.t === 'closed') void worker.terminate();
      });
      worker.postMessage({ t: 'close' } satisfies ToAuditWriter);
    });
  }

  #thread(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(builtPath('src/store/audit-writer-thread.js'), { workerData: this.#data });
    // like lmdb's own write thread, it never keeps the process alive
    worker.unref();
    worker.on('message', (msg: FromAuditWriter) => {
      if (msg.t !== 'done') return;
      const err = msg.ok ? undefined : new Error(msg.error);
      for (const first of msg.firsts) {
        const waiter = this.#waiting.get(first);
        this.#waiting.delete(first);
        if (err) waiter?.reject(err);
        else waiter?.resolve();
      }
    });
    const lost = (why: string): void => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      const err = new Error(`the audit writer thread ${why}`);
      for (const waiter of this.#waiting.values()) waiter.reject(err);
      this.#waiting.clear();
    };
    worker.on('error', (err) => lost(`failed: ${err.message}`));
    worker.on('exit', (code) => lost(`exited with code ${code}`));
    this.#worker = worker;
    return worker;
  }
}
