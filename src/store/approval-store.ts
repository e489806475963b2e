import { ApprovalRecord, type ApprovalPersistence } from '../approvals/approval-record.js';
import { AaosError, ErrorCode } from '../errors/index.js';
import type { Store } from './lmdb-env.js';
import { compact, readRecord } from './record.js';

const APPROVAL_V = 1;

// One schema for approvals, owned by the queue; this store only persists it.
export { ApprovalRecord };

/** The persistence the approval queue is written against. */
export class ApprovalStore implements ApprovalPersistence {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  save(rec: ApprovalRecord): void {
    const parsed = ApprovalRecord.safeParse({ ...rec, v: APPROVAL_V });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AaosError(
        ErrorCode.STORE,
        `invalid approval record ${rec.id}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
        {
          approval_id: rec.id,
        },
      );
    }
    const value = compact(parsed.data);
    this.#store.transaction(() => this.#store.db('approvals').putSync(value.id, value));
  }

  /** Idempotent. */
  remove(id: string): void {
    this.#store.transaction(() => this.#store.db('approvals').removeSync(id));
  }

  /** Oldest request first; unreadable records are reported and skipped. */
  loadAll(): ApprovalRecord[] {
    return this.#store.read('load approvals', () => {
      const out: ApprovalRecord[] = [];
      for (const { key, value } of this.#store.db('approvals').getRange()) {
        const rec = readRecord(this.#store, 'approvals', key, ApprovalRecord, APPROVAL_V, value);
        if (rec !== undefined) out.push(rec);
      }
      return out.sort((a, b) => (a.requested_at < b.requested_at ? -1 : a.requested_at > b.requested_at ? 1 : 0));
    });
  }
}
