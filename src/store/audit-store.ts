import { AaosError, ErrorCode, isAaosError } from '../errors/index.js';
import { AUDIT_V, type AuditBatch, type AuditRecord, auditIndexKeys, readAuditBatch } from './audit-batch.js';
import { agentRange, isKeyableId } from './keys.js';
import type { Store } from './lmdb-env.js';

/** how long appended events wait to be written together, and how many at most */
const WRITE_BEHIND_MS = 20;
const WRITE_BEHIND_MAX = 512;

export interface StoredAuditEvent {
  /** monotonic across restarts; pass as `afterKey` to continue */
  key: number;
  event: Record<string, unknown>;
}

export interface AuditStoreOptions {
  /** keep at most about this many events: whole batches beyond it are pruned, oldest first */
  maxCount?: number;
  /** drop batches older than this */
  maxAgeMs?: number;
  /** batches removed per pruning pass (default 1000) */
  pruneBatch?: number;
  now?: () => number;
}

export interface AuditQuery {
  agentId?: string;
  runId?: string;
  /** only events with a key strictly greater */
  afterKey?: number;
  /** default 1000 */
  limit?: number;
}

/**
 * The durable audit log, in arrival order, indexed by agent and by run so `logs` after a
 * restart reads only the batches it needs. Bounded by count and/or age; pruning removes the
 * oldest batches first. Write-behind: an appended event is visible to `query` at once and
 * reaches LMDB with the other events of the next WRITE_BEHIND_MS as one batch: one native
 * JSON.stringify here (msgpack-packing the event objects was the supervisor's largest audit
 * cost), then asynchronous puts that lmdb commits on its own thread (a synchronous commit
 * per event cost ~0.8 ms, most of a tool call's round trip). A process crash can lose those
 * last milliseconds of events; `settle()` waits until everything appended so far is
 * committed.
 */
export class AuditStore {
  readonly #store: Store;
  readonly #maxCount: number | undefined;
  readonly #maxAgeMs: number | undefined;
  readonly #batch: number;
  readonly #now: () => number;
  #lastKey: number;
  /** key of the oldest stored event (count = lastKey - oldestKey + 1) */
  #oldestKey: number;
  #sinceAgeCheck = 0;
  /** appended, not yet committed (visible to queries), in key order */
  #pending: StoredAuditEvent[] = [];
  /** handed to LMDB, commit not yet confirmed (still visible from here) */
  readonly #writing = new Map<number, StoredAuditEvent[]>();
  #scheduled = false;
  #chain: Promise<unknown> = Promise.resolve();
  /** events whose batch failed to commit (full disk…): counted and reported, never silently gone */
  #unstored = 0;

  constructor(store: Store, options: AuditStoreOptions = {}) {
    for (const [name, value] of [
      ['maxCount', options.maxCount],
      ['maxAgeMs', options.maxAgeMs],
      ['pruneBatch', options.pruneBatch],
    ] as const) {
      if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
        throw new AaosError(ErrorCode.CONFIG_INVALID, `audit store ${name} must be a positive integer, got ${value}`, {
          [name]: value,
        });
      }
    }
    this.#store = store;
    this.#maxCount = options.maxCount;
    this.#maxAgeMs = options.maxAgeMs;
    this.#batch = options.pruneBatch ?? 1000;
    this.#now = options.now ?? Date.now;
    const db = store.db('audit');
    const edge = (reverse: boolean): AuditBatch | undefined =>
      store.read('open audit', () => {
        for (const { key, value } of db.getRange({ reverse, limit: 1 }))
          return readAuditBatch(store, Number(key), value);
        return undefined;
      });
    const newest = edge(true);
    const oldest = edge(false);
    this.#lastKey = newest ? newest.first + newest.events.length - 1 : 0;
    this.#oldestKey = oldest ? oldest.first : this.#lastKey + 1;
  }

  get count(): number {
    return this.#lastKey - this.#oldestKey + 1;
  }

  get lastKey(): number {
    return this.#lastKey;
  }

  /** events appended since start that could not be stored */
  get unstored(): number {
    return this.#unstored;
  }

  /** Stores the event (write-behind, see the class comment) and returns its key. */
  append(event: object): number {
    const key = ++this.#lastKey;
    this.#pending.push({ key, event: event as Record<string, unknown> });
    if (this.#pending.length >= WRITE_BEHIND_MAX) this.#writeBehind();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setTimeout(() => this.#writeBehind(), WRITE_BEHIND_MS).unref();
    }
    return key;
  }

  /** Resolves once every event appended so far is committed to the store. */
  async settle(): Promise<void> {
    this.#writeBehind();
    await this.#chain;
  }

  #writeBehind(): void {
    this.#scheduled = false;
    if (this.#pending.length === 0 || this.#store.closed) return;
    const batch = this.#pending;
    this.#pending = [];
    const first = batch[0]!.key;
    const events = batch.map((e) => e.event);
    this.#writing.set(first, batch);
    let committed: Promise<unknown>;
    try {
      // a disk too full to write: refused here, before lmdb's unsafe out-of-space path
      this.#store.ensureSpace('audit append');
      const record: AuditRecord = {
        v: AUDIT_V,
        at: this.#now(),
        first,
        count: batch.length,
        events: JSON.stringify(events),
      };
      // asynchronous puts: lmdb commits them on its own thread, in order
      const writes: Promise<unknown>[] = [this.#store.db('audit').put(first, record)];
      for (const [indexDb, indexKey] of auditIndexKeys(events, first))
        writes.push(this.#store.db(indexDb).put(indexKey, first));
      // a failed commit rejects every put with an error that carries its cause as one more
      // rejected promise (commitError): each must be handled, or it ends the process
      committed = Promise.all(
        writes.map((w) =>
          w.catch((err: unknown) => {
            (err as { commitError?: Promise<unknown> } | undefined)?.commitError?.catch(() => {});
            throw err;
          }),
        ),
      );
    } catch (err) {
      // an event JSON cannot express (a BigInt, a cycle): the batch is lost, and counted
      committed = Promise.reject(err);
    }
    const stored = committed.then(
      () => this.#store.noteWrite('audit append'),
      (err: unknown) => {
        this.#unstored += batch.length;
        // a refusal by ensureSpace was noted by the store already
        if (!isAaosError(err)) this.#store.noteWrite('audit append', err);
      },
    );
    this.#chain = Promise.all([this.#chain, stored]).then(() => {
      this.#writing.delete(first);
      try {
        this.#bound();
      } catch {
        // pruning needs a write too; it is retried after the next batch
      }
    });
  }

  /** Count and age bounds, checked after each committed batch. */
  #bound(): void {
    if (this.#store.closed) return;
    const max = this.#maxCount;
    if (max !== undefined && this.count > max) this.#removeOldest((_rec, remaining) => remaining > max);
    if (this.#maxAgeMs !== undefined && ++this.#sinceAgeCheck >= 16) {
      this.#sinceAgeCheck = 0;
      this.pruneExpired();
    }
  }

  /** Removes batches older than maxAgeMs (no-op without one), except the newest; returns how many events went. */
  pruneExpired(now: number = this.#now()): number {
    if (this.#maxAgeMs === undefined) return 0;
    const cutoff = now - this.#maxAgeMs;
    return this.#removeOldest((rec) => rec.at < cutoff);
  }

  /**
   * Removes stored batches from the oldest while `shouldGo` says so. The newest stored batch
   * always stays: it carries the high-water mark that keeps keys monotonic across restarts.
   */
  #removeOldest(shouldGo: (rec: AuditBatch, remaining: number) => boolean): number {
    const db = this.#store.db('audit');
    let removedEvents = 0;
    for (;;) {
      const victims: AuditBatch[] = [];
      this.#store.read('scan audit', () => {
        let projected = this.count;
        for (const { key, value } of db.getRange({ limit: this.#batch + 1 })) {
          const rec = readAuditBatch(this.#store, Number(key), value);
          if (rec === undefined) continue;
          // never the newest stored batch, never one still being written
          if (
            rec.first + rec.events.length - 1 >= this.#lastKey ||
            this.#writing.has(rec.first) ||
            !shouldGo(rec, projected)
          )
            break;
          victims.push(rec);
          projected -= rec.events.length;
          if (victims.length >= this.#batch) break;
        }
      });
      if (victims.length === 0) return removedEvents;
      this.#store.transaction(
        () => {
          for (const rec of victims) {
            for (const [indexDb, indexKey] of auditIndexKeys(rec.events, rec.first)) {
              this.#store.db(indexDb).removeSync(indexKey);
            }
            db.removeSync(rec.first);
          }
        },
        { flush: false },
      );
      for (const rec of victims) {
        removedEvents += rec.events.length;
        this.#oldestKey = Math.max(this.#oldestKey, rec.first + rec.events.length);
      }
      if (victims.length < this.#batch) return removedEvents;
    }
  }

  /** Events in key order, the not yet committed ones included. */
  query(q: AuditQuery = {}): StoredAuditEvent[] {
    const limit = q.limit ?? 1000;
    const after = q.afterKey ?? 0;
    const out: StoredAuditEvent[] = [];
    const seen = new Set<number>();
    const take = (key: number, event: Record<string, unknown>): boolean => {
      if (out.length >= limit) return false;
      if (key <= after || seen.has(key) || !matches(q, event)) return true;
      seen.add(key);
      out.push({ key, event });
      return true;
    };
    this.#queryStored(q, after, take);
    for (const batch of [...this.#writing.values(), this.#pending]) {
      for (const e of batch) if (!take(e.key, e.event)) return out;
    }
    return out;
  }

  /**
   * The newest `limit` events matching `q` (and `accept`, when given), in key order: read
   * newest first, so the end of a long history costs what the window holds, not the history.
   */
  latest(
    q: Pick<AuditQuery, 'agentId' | 'runId'> & { limit: number },
    accept?: (event: Record<string, unknown>) => boolean,
  ): StoredAuditEvent[] {
    const out: StoredAuditEvent[] = [];
    const seen = new Set<number>();
    const take = (key: number, event: Record<string, unknown>): boolean => {
      if (out.length >= q.limit) return false;
      if (seen.has(key) || !matches(q, event) || (accept && !accept(event))) return true;
      seen.add(key);
      out.push({ key, event });
      return true;
    };
    const newestFirst = (batch: readonly StoredAuditEvent[]): boolean => {
      for (let i = batch.length - 1; i >= 0; i--) if (!take(batch[i]!.key, batch[i]!.event)) return false;
      return true;
    };
    // not yet written, then being written (a map keeps key order), then the store; a batch
    // being written may be stored already: `seen` keeps each event once
    if (q.limit > 0 && newestFirst(this.#pending) && [...this.#writing.values()].reverse().every(newestFirst))
      this.#queryStoredNewest(q, take);
    return out.reverse();
  }

  #queryStoredNewest(
    q: Pick<AuditQuery, 'agentId' | 'runId'>,
    take: (key: number, event: Record<string, unknown>) => boolean,
  ): void {
    const db = this.#store.db('audit');
    const visit = (batchKey: number, raw: unknown): boolean => {
      const rec = readAuditBatch(this.#store, batchKey, raw);
      if (rec === undefined) return true;
      for (let i = rec.events.length - 1; i >= 0; i--) if (!take(rec.first + i, rec.events[i]!)) return false;
      return true;
    };
    this.#store.read('query audit', () => {
      const indexed = indexFor(q);
      if (indexed === undefined) {
        for (const { key, value } of db.getRange({ reverse: true })) if (!visit(Number(key), value)) return;
        return;
      }
      if (!isKeyableId(indexed.id)) return;
      const range = agentRange(indexed.id);
      // reversed, lmdb reads from `start` (inclusive) down to `end` (exclusive)
      const index = this.#store.db(indexed.db);
      for (const { value } of index.getRange({ start: range.end, end: range.start, reverse: true })) {
        const batchKey = Number(value);
        if (!visit(batchKey, db.get(batchKey))) return;
      }
    });
  }

  #queryStored(q: AuditQuery, after: number, take: (key: number, event: Record<string, unknown>) => boolean): void {
    const db = this.#store.db('audit');
    const visit = (batchKey: number, raw: unknown): boolean => {
      const rec = readAuditBatch(this.#store, batchKey, raw);
      if (rec === undefined) return true;
      for (let i = 0; i < rec.events.length; i++) if (!take(rec.first + i, rec.events[i]!)) return false;
      return true;
    };
    this.#store.read('query audit', () => {
      const indexed = indexFor(q);
      if (indexed === undefined) {
        // the batch holding key `after + 1` may start before it
        let start = after + 1;
        for (const key of db.getKeys({ start: after + 1, reverse: true, limit: 1 })) start = Number(key);
        for (const { key, value } of db.getRange({ start })) if (!visit(Number(key), value)) return;
        return;
      }
      if (!isKeyableId(indexed.id)) return;
      const range = agentRange(indexed.id);
      for (const { value } of this.#store.db(indexed.db).getRange(range)) {
        const batchKey = Number(value);
        if (!visit(batchKey, db.get(batchKey))) return;
      }
    });
  }
}

/** Whether an event belongs to the agent and/or run a query names. */
function matches(q: Pick<AuditQuery, 'agentId' | 'runId'>, event: Record<string, unknown>): boolean {
  return (
    (q.agentId === undefined || event['agent_id'] === q.agentId) &&
    (q.runId === undefined || event['run_id'] === q.runId)
  );
}

/** The index that narrows a query to the batches it needs (the agent's first), if it names an id. */
function indexFor(
  q: Pick<AuditQuery, 'agentId' | 'runId'>,
): { db: 'audit_by_agent' | 'audit_by_run'; id: string } | undefined {
  if (q.agentId !== undefined) return { db: 'audit_by_agent', id: q.agentId };
  if (q.runId !== undefined) return { db: 'audit_by_run', id: q.runId };
  return undefined;
}
