import { z } from 'zod';
import { AaosError, ErrorCode } from '../errors/index.js';
import { agentKey, agentRange, isKeyableId, padNumber } from './keys.js';
import type { Store } from './lmdb-env.js';
import { readRecord } from './record.js';

const AUDIT_V = 1;

export const AuditRecord = z.object({
  v: z.literal(AUDIT_V),
  /** epoch ms when stored; age bounds use it */
  at: z.number(),
  event: z.record(z.string(), z.unknown()),
});
export type AuditRecord = z.infer<typeof AuditRecord>;

export interface StoredAuditEvent {
  /** monotonic across restarts; pass as `afterKey` to continue */
  key: number;
  event: Record<string, unknown>;
}

export interface AuditStoreOptions {
  /** keep at most this many events (hard bound, checked on every append) */
  maxCount?: number;
  /** drop events older than this */
  maxAgeMs?: number;
  /** events removed per pruning transaction (default 1000) */
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
 * Audit events in key (= arrival) order, indexed by agent and by run so `logs` after a restart
 * reads only what it shows. Bounded by count and/or age; pruning removes the oldest first.
 */
export class AuditStore {
  readonly #store: Store;
  readonly #maxCount: number | undefined;
  readonly #maxAgeMs: number | undefined;
  readonly #batch: number;
  readonly #now: () => number;
  #lastKey: number;
  #count: number;
  #sinceAgeCheck = 0;
  /** appended, not yet committed (visible to queries) */
  readonly #pending = new Map<number, AuditRecord>();
  readonly #inFlight = new Set<number>();
  #scheduled = false;
  #writing: Promise<unknown> = Promise.resolve();

  constructor(store: Store, options: AuditStoreOptions = {}) {
    for (const [name, value] of [['maxCount', options.maxCount], ['maxAgeMs', options.maxAgeMs], ['pruneBatch', options.pruneBatch]] as const) {
      if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
        throw new AaosError(ErrorCode.CONFIG_INVALID, `audit store ${name} must be a positive integer, got ${value}`, { [name]: value });
      }
    }
    this.#store = store;
    this.#maxCount = options.maxCount;
    this.#maxAgeMs = options.maxAgeMs;
    this.#batch = options.pruneBatch ?? 1000;
    this.#now = options.now ?? Date.now;
    const db = store.db('audit');
    this.#lastKey = store.read('open audit', () => {
      for (const key of db.getKeys({ reverse: true, limit: 1 })) return Number(key);
      return 0;
    });
    this.#count = store.read('count audit', () => db.getCount());
  }

  get count(): number {
    return this.#count;
  }

  get lastKey(): number {
    return this.#lastKey;
  }

  /**
   * Stores the event and returns its key. Write-behind: the event is visible to `query` at
   * once, and all events of one event-loop turn go to LMDB together as asynchronous writes
   * that never block the supervisor (a synchronous commit per event cost ~0.8 ms, most of a
   * tool call's round trip). A process crash can lose the last turn's events; `settle()`
   * waits for everything appended so far to be committed.
   */
  append(event: object): number {
    const key = this.#lastKey + 1;
    const plain = event as Record<string, unknown>;
    this.#pending.set(key, { v: AUDIT_V, at: this.#now(), event: plain });
    this.#lastKey = key;
    this.#count++;
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#writeBehind());
    }
    return key;
  }

  /** Resolves once every event appended so far is committed to the store. */
  async settle(): Promise<void> {
    this.#writeBehind();
    await this.#writing;
  }

  #writeBehind(): void {
    this.#scheduled = false;
    if (this.#pending.size === 0 || this.#store.closed) return;
    const batch = [...this.#pending.entries()].filter(([key]) => !this.#inFlight.has(key));
    if (batch.length === 0) return;
    const db = this.#store.db('audit');
    const writes: Promise<unknown>[] = [];
    for (const [key, record] of batch) {
      this.#inFlight.add(key);
      writes.push(db.put(key, record));
      for (const [indexDb, indexKey] of this.#indexKeys(record.event, key)) writes.push(this.#store.db(indexDb).put(indexKey, key));
    }
    const committed = Promise.all(writes).then(
      () => undefined,
      (err: unknown) => process.emitWarning(`audit events ${batch[0]![0]}..${batch.at(-1)![0]} were not stored: ${String(err)}`, 'AaosStoreWarning'),
    );
    this.#writing = Promise.all([this.#writing, committed]).then(() => {
      for (const [key] of batch) {
        this.#pending.delete(key);
        this.#inFlight.delete(key);
      }
      this.#bound();
    });
  }

  /** Count and age bounds, checked after each committed batch. */
  #bound(): void {
    if (this.#store.closed) return;
    const committed = this.#count - this.#pending.size;
    if (this.#maxCount !== undefined && this.#count > this.#maxCount && committed > 0) {
      // a hard bound, but pruned in chunks so steady state is not one delete per append
      const chunk = Math.min(this.#batch, Math.max(1, Math.ceil(this.#maxCount / 10)));
      this.#removeOldest(Math.min(committed, Math.max(this.#count - this.#maxCount, chunk)));
    }
    if (this.#maxAgeMs !== undefined && (this.#sinceAgeCheck += 1) >= 16) {
      this.#sinceAgeCheck = 0;
      this.pruneExpired();
    }
  }

  /** Removes events older than maxAgeMs (no-op without one), except the newest; returns how many. */
  pruneExpired(now: number = this.#now()): number {
    if (this.#maxAgeMs === undefined) return 0;
    const cutoff = now - this.#maxAgeMs;
    const db = this.#store.db('audit');
    let removed = 0;
    for (;;) {
      const expired: number[] = [];
      this.#store.read('scan audit', () => {
        for (const { key, value } of db.getRange({ limit: this.#batch })) {
          const at = (value as { at?: unknown } | undefined)?.at;
          // the newest event always stays: its key is the high-water mark that keeps keys monotonic across restarts
          if ((typeof at === 'number' && at >= cutoff) || Number(key) === this.#lastKey) break;
          expired.push(Number(key));
        }
      });
      if (expired.length === 0) return removed;
      removed += this.#removeKeys(expired);
      if (expired.length < this.#batch) return removed;
    }
  }

  /** Events in key order, the not yet committed ones included. */
  query(q: AuditQuery = {}): StoredAuditEvent[] {
    const limit = q.limit ?? 1000;
    const out = this.#queryStored(q, limit);
    if (this.#pending.size === 0 || out.length >= limit) return out;
    const seen = new Set(out.map((e) => e.key));
    for (const [key, rec] of this.#pending) {
      if (out.length >= limit) break;
      if (key <= (q.afterKey ?? 0) || seen.has(key)) continue;
      if (q.agentId !== undefined && rec.event['agent_id'] !== q.agentId) continue;
      if (q.runId !== undefined && rec.event['run_id'] !== q.runId) continue;
      out.push({ key, event: rec.event });
    }
    return out;
  }

  #queryStored(q: AuditQuery, limit: number): StoredAuditEvent[] {
    const after = q.afterKey ?? 0;
    const db = this.#store.db('audit');
    return this.#store.read('query audit', () => {
      const out: StoredAuditEvent[] = [];
      const take = (key: number, raw: unknown): void => {
        const rec = readRecord(this.#store, 'audit', key, AuditRecord, AUDIT_V, raw);
        if (rec === undefined) return;
        if (q.agentId !== undefined && rec.event['agent_id'] !== q.agentId) return;
        if (q.runId !== undefined && rec.event['run_id'] !== q.runId) return;
        out.push({ key, event: rec.event });
      };
      const indexed = q.agentId !== undefined ? { db: 'audit_by_agent' as const, id: q.agentId } : q.runId !== undefined ? { db: 'audit_by_run' as const, id: q.runId } : undefined;
      if (indexed === undefined) {
        for (const { key, value } of db.getRange({ start: after + 1 })) {
          if (out.length >= limit) break;
          take(Number(key), value);
        }
        return out;
      }
      const range = agentRange(indexed.id);
      for (const { value } of this.#store.db(indexed.db).getRange({ start: agentKey(indexed.id, padNumber(after + 1)), end: range.end })) {
        if (out.length >= limit) break;
        const key = Number(value);
        take(key, db.get(key));
      }
      return out;
    });
  }

  #removeOldest(n: number): void {
    const keys: number[] = [];
    this.#store.read('scan audit', () => {
      for (const key of this.#store.db('audit').getKeys({ limit: n })) keys.push(Number(key));
    });
    this.#removeKeys(keys);
  }

  #removeKeys(keys: readonly number[]): number {
    const db = this.#store.db('audit');
    let removed = 0;
    this.#store.transaction(
      () => {
        for (const key of keys) {
          const value = db.get(key) as { event?: Record<string, unknown> } | undefined;
          if (value === undefined) continue;
          if (value.event !== undefined && typeof value.event === 'object') this.#index(value.event, key, 'remove');
          db.removeSync(key);
          removed++;
        }
      },
      { flush: false },
    );
    this.#count -= removed;
    return removed;
  }

  #indexKeys(event: Record<string, unknown>, key: number): Array<['audit_by_agent' | 'audit_by_run', string]> {
    const out: Array<['audit_by_agent' | 'audit_by_run', string]> = [];
    for (const [dbName, field] of [['audit_by_agent', 'agent_id'], ['audit_by_run', 'run_id']] as const) {
      const id = event[field];
      if (typeof id === 'string' && isKeyableId(id)) out.push([dbName, agentKey(id, padNumber(key))]);
    }
    return out;
  }

  #index(event: Record<string, unknown>, key: number, op: 'put' | 'remove'): void {
    for (const [dbName, indexKey] of this.#indexKeys(event, key)) {
      const db = this.#store.db(dbName);
      if (op === 'put') db.putSync(indexKey, key);
      else db.removeSync(indexKey);
    }
  }
}
