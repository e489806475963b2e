import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AaosError, ErrorCode } from '../errors/index.js';
import { HistoryEntry } from '../context/history-entry.js';
import { nextSafeCut, safeCuts } from '../context/tool-pairs.js';
import { agentKey, agentRange, keySuffix, padNumber } from './keys.js';
import type { Store } from './lmdb-env.js';
import { checkRecord, compact, readRecord } from './record.js';

const SESSION_V = 1;
const ARCHIVE_V = 1;

/** One history entry of one agent, keyed `<agent>\0<seq>`. */
const SessionRecord = z.object({ v: z.literal(SESSION_V), entry: HistoryEntry });

/** Messages taken out of the live history (summarised or dropped), kept for audit and recall. */
export const ArchiveSegment = z.object({
  v: z.literal(ARCHIVE_V),
  id: z.string(),
  agent_id: z.string(),
  /** epoch ms */
  archived_at: z.number(),
  source_range: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
  reason: z.string(),
  messages: z.array(HistoryEntry),
});
export type ArchiveSegment = z.infer<typeof ArchiveSegment>;

export interface ArchiveInput {
  messages: readonly HistoryEntry[];
  source_range: readonly [number, number];
  reason: string;
}

export interface SessionStoreOptions {
  /** clock for `archived_at`; tests inject one */
  now?: () => number;
}

/**
 * Per-agent conversation history and its archives, in LMDB. Appends are single records so a
 * long session costs O(new messages) per turn; `replace` rewrites the history in one transaction.
 */
export class SessionStore {
  readonly #store: Store;
  readonly #now: () => number;

  constructor(store: Store, options: SessionStoreOptions = {}) {
    this.#store = store;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The agent's history, oldest first (empty if none). An unreadable record (e.g. written by a
   * newer runtime) is reported; the history then resumes after the last unreadable record at a
   * pair-safe point, so what is returned is always a well-formed conversation.
   */
  load(agentId: string): HistoryEntry[] {
    const db = this.#store.db('sessions');
    return this.#store.read(`load session of agent ${agentId}`, () => {
      const entries: HistoryEntry[] = [];
      let damaged = false;
      for (const { key, value } of db.getRange(agentRange(agentId))) {
        const rec = readRecord(this.#store, 'sessions', key, SessionRecord, SESSION_V, value);
        if (rec === undefined) {
          entries.length = 0;
          damaged = true;
          continue;
        }
        entries.push(rec.entry);
      }
      if (!damaged) return entries;
      const cut = nextSafeCut(safeCuts(entries), 0) ?? entries.length;
      return entries.slice(cut);
    });
  }

  /** Appends after the last entry; a no-op for an empty list. */
  append(agentId: string, entries: readonly HistoryEntry[]): void {
    if (entries.length === 0) return;
    const valid = this.#validate(agentId, entries);
    const db = this.#store.db('sessions');
    this.#store.transaction(() => {
      let seq = this.#lastSeq(agentId) + 1;
      for (const entry of valid) db.putSync(agentKey(agentId, padNumber(seq++)), { v: SESSION_V, entry });
    });
  }

  /** Atomically swaps the whole history: readers see the old or the new one, never a mix. */
  replace(agentId: string, entries: readonly HistoryEntry[]): void {
    const valid = this.#validate(agentId, entries);
    const db = this.#store.db('sessions');
    this.#store.transaction(() => {
      for (const key of db.getKeys(agentRange(agentId))) db.removeSync(key);
      for (const [i, entry] of valid.entries()) db.putSync(agentKey(agentId, padNumber(i)), { v: SESSION_V, entry });
    });
  }

  /** Removes the history (not the archives); idempotent. */
  clear(agentId: string): void {
    const db = this.#store.db('sessions');
    this.#store.transaction(() => {
      for (const key of db.getKeys(agentRange(agentId))) db.removeSync(key);
    });
  }

  /** Stores a segment and returns its id. */
  archive(agentId: string, input: ArchiveInput): string {
    const id = randomUUID();
    const archivedAt = this.#now();
    const record: ArchiveSegment = {
      v: ARCHIVE_V,
      id,
      agent_id: agentId,
      archived_at: archivedAt,
      source_range: [input.source_range[0], input.source_range[1]],
      reason: input.reason,
      messages: this.#validate(agentId, input.messages),
    };
    const db = this.#store.db('archives');
    // key sorts by time, so loading is ordered and pruning is a prefix walk
    this.#store.transaction(() => db.putSync(agentKey(agentId, `${padNumber(archivedAt)}:${id}`), compact(record)));
    return id;
  }

  /** The agent's archive segments, oldest first; unreadable ones are reported and skipped. */
  loadArchives(agentId: string): ArchiveSegment[] {
    const db = this.#store.db('archives');
    return this.#store.read(`load archives of agent ${agentId}`, () => {
      const out: ArchiveSegment[] = [];
      for (const { key, value } of db.getRange(agentRange(agentId))) {
        const rec = readRecord(this.#store, 'archives', key, ArchiveSegment, ARCHIVE_V, value);
        if (rec !== undefined) out.push(rec);
      }
      return out;
    });
  }

  /** Deletes the agent's segments archived before `now - maxAgeMs`; returns how many. */
  pruneArchives(agentId: string, maxAgeMs: number, now: number = this.#now()): number {
    const cutoff = now - maxAgeMs;
    const db = this.#store.db('archives');
    const range = agentRange(agentId);
    return this.#store.transaction(() => {
      let removed = 0;
      // the time is in the key, so old segments are removed without decoding them
      for (const key of db.getKeys({ start: range.start, end: agentKey(agentId, padNumber(Math.max(0, cutoff))) })) {
        db.removeSync(key);
        removed++;
      }
      return removed;
    });
  }

  /** Prunes every agent's archives (the supervisor's periodic TTL sweep); returns how many. */
  pruneAllArchives(maxAgeMs: number, now: number = this.#now()): number {
    const cutoff = now - maxAgeMs;
    const db = this.#store.db('archives');
    return this.#store.transaction(() => {
      let removed = 0;
      for (const key of db.getKeys()) {
        const stamp = Number.parseInt(keySuffix(String(key)).slice(0, 16), 10);
        if (Number.isFinite(stamp) && stamp < cutoff) {
          db.removeSync(key);
          removed++;
        }
      }
      return removed;
    });
  }

  #lastSeq(agentId: string): number {
    const db = this.#store.db('sessions');
    const range = agentRange(agentId);
    for (const key of db.getKeys({ start: range.end, end: range.start, reverse: true, limit: 1 })) {
      const seq = Number.parseInt(keySuffix(String(key)), 10);
      if (Number.isFinite(seq)) return seq;
    }
    return -1;
  }

  #validate(agentId: string, entries: readonly HistoryEntry[]): HistoryEntry[] {
    return entries.map((entry, i) => {
      const checked = checkRecord(SessionRecord, SESSION_V, { v: SESSION_V, entry });
      if (!checked.ok) {
        throw new AaosError(
          ErrorCode.STORE,
          `refusing to persist history entry ${i} of agent ${agentId}: ${checked.reason}`,
          {
            agent_id: agentId,
            index: i,
          },
        );
      }
      return checked.value.entry;
    });
  }
}
