import { z } from 'zod';
import { ContentBlock } from '../providers/model.js';
import { agentKey, agentRange, keySuffix, padNumber } from './keys.js';
import type { Store } from './lmdb-env.js';
import { readRecord } from './record.js';

const JOURNAL_V = 1;

/**
 * What a goal run did so far, written as it happens so a restart can continue the run
 * instead of repeating it: each model turn, each tool call as it starts, each tool result
 * as the agent hands it back.
 */
export const JournalEntry = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('assistant'), content: z.array(ContentBlock) }),
  z.object({ kind: z.literal('tool_started'), tool_use_id: z.string(), name: z.string() }),
  z.object({ kind: z.literal('tool_result'), tool_use_id: z.string(), content: z.string(), is_error: z.boolean() }),
]);
export type JournalEntry = z.infer<typeof JournalEntry>;

const JournalRecord = z.object({ v: z.literal(JOURNAL_V), entry: JournalEntry });
type JournalRecord = z.infer<typeof JournalRecord>;

/**
 * Per-run journal in LMDB (`journal` db, keys `<run id>/<seq>`). Every append is one
 * synchronous, flushed transaction: when `append` returns, a `kill -9` cannot lose it,
 * which is what lets resume tell a tool call that started from one that never did.
 */
/** Told of each entry once it is durable here (a cluster node copies goal runs' journals to JetStream). */
export type JournalListener = (runId: string, seq: number, entry: JournalEntry) => void;

export class RunJournal {
  readonly #store: Store;
  readonly #next = new Map<string, number>();
  #listener: JournalListener | undefined;

  constructor(store: Store) {
    this.#store = store;
  }

  append(runId: string, entry: JournalEntry): void {
    const seq = this.#next.get(runId) ?? this.#lastSeq(runId) + 1;
    const record: JournalRecord = { v: JOURNAL_V, entry };
    this.#store.transaction(() => this.#store.db('journal').putSync(agentKey(runId, padNumber(seq)), record));
    this.#next.set(runId, seq + 1);
    this.#listener?.(runId, seq, entry);
  }

  /** One listener (the cluster's journal copy); entries appended from now on are passed to it. */
  observe(listener: JournalListener | undefined): void {
    this.#listener = listener;
  }

  /** Replaces a run's journal with `entries` (seq 0..n-1): a run taken over from another node's copy. Not observed. */
  replace(runId: string, entries: readonly JournalEntry[]): void {
    const db = this.#store.db('journal');
    this.#store.transaction(() => {
      for (const key of db.getKeys(agentRange(runId))) db.removeSync(key);
      entries.forEach((entry, seq) => {
        const record: JournalRecord = { v: JOURNAL_V, entry };
        db.putSync(agentKey(runId, padNumber(seq)), record);
      });
    });
    this.#next.set(runId, entries.length);
  }

  /** The run's entries, oldest first; an unreadable record is reported and skipped. */
  load(runId: string): JournalEntry[] {
    return this.#store.read(`load journal of run ${runId}`, () => {
      const out: JournalEntry[] = [];
      for (const { key, value } of this.#store.db('journal').getRange(agentRange(runId))) {
        const rec = readRecord(this.#store, 'journal', String(key), JournalRecord, JOURNAL_V, value);
        if (rec !== undefined) out.push(rec.entry);
      }
      return out;
    });
  }

  /** Forget a run that ended (its result is in the run store). */
  drop(runId: string): void {
    const db = this.#store.db('journal');
    this.#store.transaction(() => {
      for (const key of db.getKeys(agentRange(runId))) db.removeSync(key);
    });
    this.#next.delete(runId);
  }

  #lastSeq(runId: string): number {
    return this.#store.read(`read journal of run ${runId}`, () => {
      const range = agentRange(runId);
      // reversed ranges run from the high bound down to the low one
      for (const key of this.#store
        .db('journal')
        .getKeys({ start: range.end, end: range.start, reverse: true, limit: 1 })) {
        return Number(keySuffix(String(key)));
      }
      return -1;
    });
  }
}
