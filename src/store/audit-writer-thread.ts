import { parentPort, workerData } from 'node:worker_threads';
import { open, TransactionFlags, type Database, type RootDatabase } from 'lmdb';
import { AUDIT_V, auditIndexKeys, type AuditRecord } from './audit-batch.js';
import type { StoreKey } from './lmdb-env.js';
import type { AuditWriterData, ToAuditWriter, FromAuditWriter } from './audit-writer.js';

/**
 * The audit writer thread: stores the batches the supervisor hands over (one JSON string
 * each) in LMDB, with their index entries, and says which committed. Batches that arrive
 * while a commit runs are written together in the next transaction. It holds nothing but
 * its own handle on the store environment the supervisor already opened.
 */
const data = workerData as AuditWriterData;
const port = parentPort!;
let root: RootDatabase<unknown, StoreKey> | undefined;
const dbs: Partial<Record<'audit' | 'audit_by_agent' | 'audit_by_run', Database<unknown, StoreKey>>> = {};
let queue: Extract<ToAuditWriter, { t: 'batch' }>[] = [];
let scheduled = false;

function db(name: 'audit' | 'audit_by_agent' | 'audit_by_run'): Database<unknown, StoreKey> {
  root ??= open<unknown, StoreKey>({ path: data.path, maxDbs: data.maxDbs });
  return (dbs[name] ??= root.openDB<unknown, StoreKey>({ name }));
}

function reply(msg: FromAuditWriter): void {
  port.postMessage(msg);
}

function drain(): void {
  scheduled = false;
  const batches = queue;
  queue = [];
  if (batches.length === 0) return;
  const firsts = batches.map((b) => b.first);
  try {
    const records = batches.map((b) => {
      const events = JSON.parse(b.json) as Record<string, unknown>[];
      const record: AuditRecord = { v: AUDIT_V, at: b.at, first: b.first, count: events.length, events: b.json };
      return { record, index: auditIndexKeys(events, b.first) };
    });
    const audit = db('audit');
    // committed before the answer; the disk flush may overlap the next commit (audit appends
    // are bookkeeping whose loss on power failure is harmless, docs/reliability.md)
    root!.transactionSync(() => {
      for (const { record, index } of records) {
        audit.putSync(record.first, record);
        for (const [indexDb, key] of index) db(indexDb).putSync(key, record.first);
      }
    }, TransactionFlags.ABORTABLE | TransactionFlags.SYNCHRONOUS_COMMIT | TransactionFlags.NO_SYNC_FLUSH);
    reply({ t: 'done', firsts, ok: true });
  } catch (err) {
    reply({ t: 'done', firsts, ok: false, error: err instanceof Error ? err.message : String(err) });
  }
}

port.on('message', (msg: ToAuditWriter) => {
  if (msg.t === 'batch') {
    queue.push(msg);
    if (!scheduled) {
      scheduled = true;
      setImmediate(drain);
    }
    return;
  }
  // close: everything received before it is written first (messages arrive in order)
  drain();
  const closing = root;
  root = undefined;
  void (closing ? closing.close() : Promise.resolve()).finally(() => {
    reply({ t: 'closed' });
    port.close();
  });
});
