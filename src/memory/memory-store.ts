import { randomUUID } from 'node:crypto';
import { AaosError, ErrorCode } from '../errors/index.js';
import { agentKey, agentRange, keySuffix } from '../store/keys.js';
import type { Store } from '../store/lmdb-env.js';
import { checkRecord, compact } from '../store/record.js';
import type { Embedder } from './embedder.js';
import { decodeIndexEntry, encodeIndexEntry, spaceTag, withLastUsed } from './index-entry.js';
import { AgentMemoryIndex, categoryCode, type IndexLayout } from './memory-index.js';
import {
  MEMORY_RECORD_V,
  MemoryRecord,
  decodeEmbeddingInto,
  encodeEmbedding,
  toView,
  type MemoryCategory,
  type MemoryView,
} from './memory-record.js';

export const MAX_QUERY_LIMIT = 20;
export const DEFAULT_QUERY_LIMIT = 5;

export interface StoreMemoryInput {
  content: string;
  category: MemoryCategory;
  /** the content's vector from the store's embedder */
  embedding: Float32Array;
  /** id of one of the caller's memories to supersede, atomically */
  replaces?: string;
}

export interface MemoryQueryOptions {
  /** 1..20, default 5 (clamped) */
  limit?: number;
  category?: MemoryCategory;
}

export interface MemoryHit extends MemoryView {
  /** cosine similarity clamped to [0, 1] */
  relevance_score: number;
}

/** A memory that took no part in a query, and why (never silently left out). */
export interface SkippedMemory {
  id: string;
  reason: string;
}

export interface MemoryQueryResult {
  results: MemoryHit[];
  skipped: SkippedMemory[];
}

export interface MemoryStoreOptions {
  now?: () => number;
  /** texts per embed call when re-embedding (default 32) */
  reembedBatch?: number;
  /**
   * The most memories one agent may hold whatever its manifest says
   * (`AAOS_MEMORY_MAX_RECORDS_PER_AGENT`; default 1,000,000): bounds the supervisor's memory.
   */
  maxRecordsPerAgent?: number;
  /** index entries written per transaction when rewriting an agent's entries (default 5000) */
  indexBatch?: number;
}

interface LoadedIndex {
  index: AgentMemoryIndex;
  /** records that failed to read (e.g. a newer schema version), reported on every query */
  unreadable: SkippedMemory[];
}

/**
 * Episodic memory in LMDB, one private space per agent. Each agent's vectors are mirrored in an
 * in-memory matrix, loaded on first use and updated with every write, so a query is one pass
 * over typed arrays. All writes happen synchronously on the supervisor thread, so each check
 * and the write that relies on it cannot interleave with another request.
 */
export class MemoryStore {
  readonly #store: Store;
  readonly #embedder: Embedder;
  readonly #now: () => number;
  readonly #batch: number;
  readonly #ceiling: number;
  readonly #indexBatch: number;
  readonly #indexes = new Map<string, LoadedIndex>();
  readonly #reembedding = new Map<string, Promise<SkippedMemory[]>>();
  /** last-use times not yet persisted, per agent (id → ISO time); see `query` */
  readonly #touches = new Map<string, Map<string, string>>();

  constructor(store: Store, embedder: Embedder, options: MemoryStoreOptions = {}) {
    this.#store = store;
    this.#embedder = embedder;
    this.#now = options.now ?? Date.now;
    this.#batch = Math.max(1, options.reembedBatch ?? 32);
    this.#ceiling = Math.max(1, Math.floor(options.maxRecordsPerAgent ?? 1_000_000));
    this.#indexBatch = Math.max(1, Math.floor(options.indexBatch ?? 5000));
  }

  /** `sparse` for an embedder whose vectors are mostly zero, else `dense` rows. */
  get #layout(): IndexLayout {
    return this.#embedder.sparse === true ? 'sparse' : 'dense';
  }

  get embedder(): Embedder {
    return this.#embedder;
  }

  /**
   * Stores a memory and returns its id. At the cap (`maxRecords`), the least recently used
   * memories are evicted in the same transaction; `replaces` deletes the superseded memory in
   * that transaction too (MEMORY_NOT_FOUND if it is not one of the caller's).
   */
  store(agentId: string, input: StoreMemoryInput, limits: { maxRecords: number }): { id: string; evicted: string[] } {
    const dims = this.#spaceDims(input.embedding.length);
    const loaded = this.#load(agentId, dims);
    const { index } = loaded;
    const db = this.#store.db('memory');
    const idb = this.#store.db('memory_index');
    if (input.replaces !== undefined && !index.has(input.replaces) && !this.#exists(agentId, input.replaces)) {
      throw notFound(agentId, input.replaces);
    }
    const maxRecords = Math.max(1, Math.floor(limits.maxRecords));
    const exclude = new Set<string>(input.replaces !== undefined ? [input.replaces] : []);
    const evicted: string[] = [];
    let projected = index.size + 1 - (input.replaces !== undefined && index.has(input.replaces) ? 1 : 0);
    while (projected > maxRecords) {
      const victim = index.lruVictim(exclude);
      if (victim === undefined) break;
      exclude.add(victim);
      evicted.push(victim);
      projected--;
    }
    if (projected > this.#ceiling) {
      throw new AaosError(
        ErrorCode.MEMORY_LIMIT,
        `agent ${agentId} holds ${index.size} memories, the most the supervisor allows per agent ` +
          `(AAOS_MEMORY_MAX_RECORDS_PER_AGENT=${this.#ceiling}); its manifest's memory.episodic_max_records ` +
          `(${maxRecords}) is higher, so nothing was evicted: lower it or delete memories`,
        { agent_id: agentId, count: index.size, max: this.#ceiling, episodic_max_records: maxRecords },
      );
    }
    const nowMs = this.#now();
    const iso = new Date(nowMs).toISOString();
    const id = randomUUID();
    const record: MemoryRecord = compact({
      v: MEMORY_RECORD_V,
      id,
      agent_id: agentId,
      content: input.content,
      category: input.category,
      created_at: iso,
      last_used_at: iso,
      embedding: encodeEmbedding(input.embedding),
      embedding_model: this.#embedder.model,
      dims,
      replaces: input.replaces,
    });
    const entry = encodeIndexEntry(input.category, nowMs, nowMs, spaceTag(this.#embedder.model, dims), input.embedding);
    // the record and its index entry in one transaction: a crash leaves both or neither
    this.#store.transaction(() => {
      this.#writeTouches(agentId, exclude);
      if (input.replaces !== undefined) {
        if (!db.removeSync(agentKey(agentId, input.replaces))) throw notFound(agentId, input.replaces);
        idb.removeSync(agentKey(agentId, input.replaces));
      }
      for (const victim of evicted) {
        db.removeSync(agentKey(agentId, victim));
        idb.removeSync(agentKey(agentId, victim));
      }
      db.putSync(agentKey(agentId, id), record);
      idb.putSync(agentKey(agentId, id), entry);
    });
    // the transaction committed: mirror it
    if (input.replaces !== undefined) {
      index.remove(input.replaces);
      loaded.unreadable = loaded.unreadable.filter((u) => u.id !== input.replaces);
    }
    for (const victim of evicted) index.remove(victim);
    index.add(id, input.category, nowMs, nowMs, input.embedding);
    return { id, evicted };
  }

  /**
   * The caller's memories most similar to `embedding`, best first, without their vectors.
   * Memories embedded in another vector space are re-embedded with the current embedder (and
   * persisted) first; any that cannot be, or cannot be read, are listed in `skipped`.
   * Hits count as a use for LRU eviction.
   */
  async query(agentId: string, embedding: Float32Array, options: MemoryQueryOptions = {}): Promise<MemoryQueryResult> {
    const limit = Math.min(MAX_QUERY_LIMIT, Math.max(1, Math.floor(options.limit ?? DEFAULT_QUERY_LIMIT)));
    const dims = this.#spaceDims(embedding.length);
    let skipped: SkippedMemory[] = [];
    if (this.#load(agentId, dims).index.staleCount > 0) skipped = await this.#reembedStale(agentId, dims);
    // reload: the index may have changed while the embedder was working
    const loaded = this.#load(agentId, dims);
    skipped = [...loaded.unreadable, ...skipped.filter((s) => loaded.index.has(s.id))];
    const hits = loaded.index.search(
      embedding,
      limit,
      options.category === undefined ? 0 : categoryCode(options.category),
    );
    const db = this.#store.db('memory');
    const nowMs = this.#now();
    const iso = new Date(nowMs).toISOString();
    const results: MemoryHit[] = [];
    const touched: string[] = [];
    this.#store.read(`query memory of agent ${agentId}`, () => {
      for (const hit of hits) {
        const id = hit.id;
        const checked = checkRecord(MemoryRecord, MEMORY_RECORD_V, db.get(agentKey(agentId, id)));
        if (!checked.ok) continue;
        touched.push(id);
        results.push({
          ...toView(checked.value),
          last_used_at: iso,
          relevance_score: Math.max(0, Math.min(1, hit.score)),
        });
      }
    });
    if (touched.length > 0) {
      // A use only matters for LRU eviction: the in-memory index has it at once, and the store
      // gets it with the agent's next write (or when the agent is unloaded), so a query never
      // waits for a commit. A crash loses only these touches.
      let pending = this.#touches.get(agentId);
      if (!pending) this.#touches.set(agentId, (pending = new Map()));
      for (const id of touched) {
        loaded.index.touch(id, nowMs);
        pending.set(id, iso);
      }
    }
    return { results, skipped };
  }

  /** MEMORY_NOT_FOUND when the id is missing or belongs to another agent. */
  delete(agentId: string, id: string): void {
    const db = this.#store.db('memory');
    const idb = this.#store.db('memory_index');
    const removed = this.#store.transaction(() => {
      const gone = db.removeSync(agentKey(agentId, id));
      idb.removeSync(agentKey(agentId, id));
      return gone;
    });
    if (!removed) throw notFound(agentId, id);
    const loaded = this.#indexes.get(agentId);
    if (loaded) {
      loaded.index.remove(id);
      loaded.unreadable = loaded.unreadable.filter((u) => u.id !== id);
    }
  }

  count(agentId: string): number {
    const loaded = this.#indexes.get(agentId);
    if (loaded) return loaded.index.size + loaded.unreadable.length;
    return this.#store.read(`count memory of agent ${agentId}`, () =>
      this.#store.db('memory').getKeysCount(agentRange(agentId)),
    );
  }

  /** Bytes held by the agent's loaded index (its typed arrays; ids not counted), undefined if not loaded. */
  indexBytes(agentId: string): number | undefined {
    return this.#indexes.get(agentId)?.index.bytes();
  }

  /** Oldest first; unreadable records are reported to the store and left out. */
  list(agentId: string, options: { offset?: number; limit?: number } = {}): MemoryView[] {
    const db = this.#store.db('memory');
    const out = this.#store.read(`list memory of agent ${agentId}`, () => {
      const views: MemoryView[] = [];
      for (const { key, value } of db.getRange(agentRange(agentId))) {
        const checked = checkRecord(MemoryRecord, MEMORY_RECORD_V, value);
        if (checked.ok) views.push(toView(checked.value));
        else this.#store.reportInvalid({ db: 'memory', key: String(key), reason: checked.reason, v: checked.v });
      }
      return views;
    });
    out.sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
    const offset = Math.max(0, options.offset ?? 0);
    return out.slice(offset, options.limit === undefined ? undefined : offset + Math.max(0, options.limit));
  }

  /** Persists pending last-use times, then frees the agent's in-memory matrix (e.g. when it stops). */
  unload(agentId: string): void {
    if (this.#touches.get(agentId)?.size && !this.#store.closed) {
      this.#store.transaction(() => this.#writeTouches(agentId), { flush: false });
    }
    this.#touches.delete(agentId);
    this.#indexes.delete(agentId);
  }

  /** Inside a write transaction: persist the agent's pending last-use times (skipping ids about to go). */
  #writeTouches(agentId: string, skip: ReadonlySet<string> = new Set()): void {
    const pending = this.#touches.get(agentId);
    if (!pending || pending.size === 0) return;
    const db = this.#store.db('memory');
    const idb = this.#store.db('memory_index');
    for (const [id, iso] of pending) {
      if (skip.has(id)) continue;
      const key = agentKey(agentId, id);
      const checked = checkRecord(MemoryRecord, MEMORY_RECORD_V, db.get(key));
      if (!checked.ok) continue;
      db.putSync(key, { ...checked.value, last_used_at: iso });
      const entry = idb.get(key);
      if (entry instanceof Uint8Array && entry.byteLength >= 32) idb.putSync(key, withLastUsed(entry, Date.parse(iso)));
    }
    pending.clear();
  }

  #spaceDims(vectorLength: number): number {
    const dims = this.#embedder.dims;
    if (dims !== 0 && vectorLength !== dims) {
      throw new AaosError(
        ErrorCode.EMBEDDING_FAILED,
        `embedding has ${vectorLength} dimensions but ${this.#embedder.model} produces ${dims}`,
        { model: this.#embedder.model, expected: dims, actual: vectorLength },
      );
    }
    if (vectorLength === 0)
      throw new AaosError(ErrorCode.EMBEDDING_FAILED, 'empty embedding vector', { model: this.#embedder.model });
    return vectorLength;
  }

  #exists(agentId: string, id: string): boolean {
    return this.#store.read('check memory', () => this.#store.db('memory').doesExist(agentKey(agentId, id)));
  }

  #load(agentId: string, dims: number): LoadedIndex {
    const model = this.#embedder.model;
    const cached = this.#indexes.get(agentId);
    if (cached && cached.index.dims === dims && cached.index.model === model) return cached;
    const loaded = this.#loadFromEntries(agentId, dims) ?? this.#rebuild(agentId, dims);
    loaded.index.trim();
    this.#indexes.set(agentId, loaded);
    return loaded;
  }

  /**
   * The fast cold start: the index from the compact entries alone, when there is exactly one
   * valid entry per record (both are written in one transaction). Undefined otherwise (entries
   * missing, e.g. records from before the entries existed, or a damaged one): then rebuild.
   */
  #loadFromEntries(agentId: string, dims: number): LoadedIndex | undefined {
    const model = this.#embedder.model;
    const tag = spaceTag(model, dims);
    const db = this.#store.db('memory');
    const idb = this.#store.db('memory_index');
    return this.#store.read(`load memory index of agent ${agentId}`, () => {
      const records = db.getKeysCount(agentRange(agentId));
      // fresh range objects: lmdb-js annotates the options object it is given
      if (idb.getKeysCount(agentRange(agentId)) !== records) return undefined;
      const index = new AgentMemoryIndex(model, dims, this.#layout, Math.max(64, records));
      const scratch = { buffer: new ArrayBuffer(4096) };
      for (const { key, value } of idb.getRange(agentRange(agentId))) {
        const entry = decodeIndexEntry(value, scratch);
        if (typeof entry === 'string') {
          this.#store.reportInvalid({ db: 'memory_index', key: String(key), reason: entry });
          return undefined;
        }
        const sameSpace = entry.space === tag && entry.dims === dims;
        const vector = !sameSpace ? undefined : entry.index ? { index: entry.index, value: entry.value } : entry.value;
        index.add(keySuffix(String(key)), entry.category, entry.createdMs, entry.lastUsedMs, vector);
      }
      return { index, unreadable: [] };
    });
  }

  /** The slow path: the index from the records themselves, then their entries rewritten for next time. */
  #rebuild(agentId: string, dims: number): LoadedIndex {
    const model = this.#embedder.model;
    const db = this.#store.db('memory');
    const entries: Array<{ key: string; entry: Uint8Array }> = [];
    const loaded = this.#store.read(`load memory of agent ${agentId}`, () => {
      const index = new AgentMemoryIndex(model, dims, this.#layout, Math.max(64, db.getKeysCount(agentRange(agentId))));
      const unreadable: SkippedMemory[] = [];
      for (const { key, value } of db.getRange(agentRange(agentId))) {
        const checked = checkRecord(MemoryRecord, MEMORY_RECORD_V, value);
        if (!checked.ok) {
          const id = keySuffix(String(key));
          this.#store.reportInvalid({ db: 'memory', key: String(key), reason: checked.reason, v: checked.v });
          unreadable.push({ id, reason: `unreadable record: ${checked.reason}` });
          continue;
        }
        const rec = checked.value;
        const vector = new Float32Array(rec.dims);
        decodeEmbeddingInto(rec.embedding, vector, 0);
        const created = Date.parse(rec.created_at);
        const lastUsed = Date.parse(rec.last_used_at);
        const sameSpace = rec.embedding_model === model && rec.dims === dims;
        index.add(rec.id, rec.category, created, lastUsed, sameSpace ? vector : undefined);
        entries.push({
          key: String(key),
          entry: encodeIndexEntry(rec.category, created, lastUsed, spaceTag(rec.embedding_model, rec.dims), vector),
        });
      }
      return { index, unreadable };
    });
    this.#rewriteEntries(agentId, entries);
    return loaded;
  }

  /**
   * Replaces the agent's index entries, a batch per transaction. A crash part-way leaves the
   * counts unequal, so the next load rebuilds again; a failed write (full disk) only costs the
   * next cold start its speed, so it is reported and the loaded index is served.
   */
  #rewriteEntries(agentId: string, entries: ReadonlyArray<{ key: string; entry: Uint8Array }>): void {
    const idb = this.#store.db('memory_index');
    try {
      const stale = this.#store.read('list memory index entries', () => [
        ...idb.getKeys(agentRange(agentId)),
      ]) as string[];
      for (let i = 0; i < stale.length; i += this.#indexBatch) {
        const batch = stale.slice(i, i + this.#indexBatch);
        this.#store.transaction(
          () => {
            for (const key of batch) idb.removeSync(key);
          },
          { flush: false },
        );
      }
      for (let i = 0; i < entries.length; i += this.#indexBatch) {
        const batch = entries.slice(i, i + this.#indexBatch);
        this.#store.transaction(
          () => {
            for (const { key, entry } of batch) idb.putSync(key, entry);
          },
          { flush: false },
        );
      }
    } catch (err) {
      process.emitWarning(
        `memory index entries of agent ${agentId} not rewritten (the next cold start rebuilds again): ${
          err instanceof Error ? err.message : String(err)
        }`,
        'AaosMemoryWarning',
      );
    }
  }

  /** One re-embedding pass per agent at a time; concurrent queries share it. */
  #reembedStale(agentId: string, dims: number): Promise<SkippedMemory[]> {
    const running = this.#reembedding.get(agentId);
    if (running) return running;
    const job = this.#reembed(agentId, dims).finally(() => this.#reembedding.delete(agentId));
    this.#reembedding.set(agentId, job);
    return job;
  }

  async #reembed(agentId: string, dims: number): Promise<SkippedMemory[]> {
    const model = this.#embedder.model;
    const db = this.#store.db('memory');
    const idb = this.#store.db('memory_index');
    const skipped: SkippedMemory[] = [];
    const ids = this.#load(agentId, dims).index.staleIds();
    let failure: string | undefined;
    for (let i = 0; i < ids.length; i += this.#batch) {
      const batch = ids.slice(i, i + this.#batch);
      if (failure !== undefined) {
        for (const id of batch) skipped.push({ id, reason: failure });
        continue;
      }
      const records = this.#store.read('read memory for re-embedding', () =>
        batch.flatMap((id) => {
          const checked = checkRecord(MemoryRecord, MEMORY_RECORD_V, db.get(agentKey(agentId, id)));
          return checked.ok ? [checked.value] : [];
        }),
      );
      let vectors: Float32Array[];
      try {
        vectors = await this.#embedder.embed(records.map((r) => r.content));
        const bad = vectors.find((v) => v.length !== dims);
        if (vectors.length !== records.length || bad !== undefined) {
          throw new Error(
            `the embedder returned ${vectors.length} vectors of ${bad?.length ?? dims} dimensions for ${records.length} texts`,
          );
        }
      } catch (err) {
        failure = `re-embedding with ${model} failed: ${err instanceof Error ? err.message : String(err)}`;
        for (const rec of records) skipped.push({ id: rec.id, reason: failure });
        continue;
      }
      const index = this.#load(agentId, dims).index;
      const updated: Array<{ id: string; vector: Float32Array }> = [];
      this.#store.transaction(() => {
        records.forEach((rec, k) => {
          const vector = vectors[k] as Float32Array;
          const key = agentKey(agentId, rec.id);
          // deleted or replaced while the embedder was busy
          if (!db.doesExist(key) || !index.has(rec.id)) return;
          db.putSync(key, { ...rec, embedding: encodeEmbedding(vector), embedding_model: model, dims });
          idb.putSync(
            key,
            encodeIndexEntry(
              rec.category,
              Date.parse(rec.created_at),
              index.lastUsed(rec.id) ?? Date.parse(rec.last_used_at),
              spaceTag(model, dims),
              vector,
            ),
          );
          updated.push({ id: rec.id, vector });
        });
      });
      for (const { id, vector } of updated) index.setVector(id, vector);
    }
    return skipped;
  }
}

function notFound(agentId: string, id: string): AaosError {
  return new AaosError(ErrorCode.MEMORY_NOT_FOUND, `no memory ${id} for agent ${agentId}`, {
    agent_id: agentId,
    memory_id: id,
  });
}
