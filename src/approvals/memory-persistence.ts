import type { ApprovalPersistence, ApprovalRecord } from './approval-record.js';

/** In-process persistence (tests, `:memory:`). Copies on the way in and out, like a real store. */
export class MemoryApprovalPersistence implements ApprovalPersistence {
  readonly #records = new Map<string, ApprovalRecord>();

  save(record: ApprovalRecord): void {
    this.#records.set(record.id, structuredClone(record));
  }

  remove(id: string): void {
    this.#records.delete(id);
  }

  loadAll(): ApprovalRecord[] {
    return [...this.#records.values()].map((record) => structuredClone(record));
  }
}
