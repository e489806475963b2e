import { randomUUID } from 'node:crypto';
import { AaosError, ErrorCode } from '../errors/index.js';
import { agentKey, agentRange, keySuffix } from '../store/keys.js';
import type { Store } from '../store/lmdb-env.js';
import { checkRecord, compact } from '../store/record.js';
import type { Embedder } from './embedder.js';
import { AgentMemoryIndex, categoryCode } from './memory-index.js';
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
  readonly #indexes = new Map<string, LoadedIndex>();
  readonly #reembedding = new Map<string, Promise<SkippedMemory[]>>();
  /** last-use times not yet persisted, per agent (id → ISO time); see `query` */
  readonly #touches = new Map<string, Map<string, string>>();

  constructor(store: Store, embedder: Embedder, options: MemoryStoreOptions = {}) {
    this.#store = store;
    this.#embedder = embedder;
    this.#now = options.now ?? Date.now;
    this.#batch = Math.max(1, options.reembedBatch ?? 32);
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
    if (input.replaces !== undefined && !index.rowOf.has(input.replaces) && !this.#exists(agentId, input.replaces)) {
      throw notFound(agentId, input.replaces);
    }
    const maxRecords = Math.max(1, Math.floor(limits.maxRecords));
    const exclude = new Set<string>(input.replaces !== undefined ? [input.replaces] : []);
    const evicted: string[] = [];
    let projected = index.size + 1 - (input.replaces !== undefined && index.rowOf.has(input.replaces) ? 1 : 0);
    while (projected > maxRecords) {
      const victim = index.lruVictim(exclude);
      if (victim === undefined) break;
      exclude.add(victim);
      evicted.push(victim);
      projected--;
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
    this.#store.transaction(() => {
      this.#writeTouches(agentId, exclude);
      if (input.replaces !== undefined && !db.removeSync(agentKey(agentId, input.replaces)))
        throw notFound(agentId, input.replaces);
      for (const victim of evicted) db.removeSync(agentKey(agentId, victim));
      db.putSync(agentKey(agentId, id), record);
    });
    // the transaction committed: mirror it
    if (input.replaces !== undefined) {
      index.remove(input.replaces);
      loaded.unreadable = loaded.unreadable.filter((u) => u.id !== input.replaces);
    }
    for (const victim of evicted) index.remove(victim);
    index.add(id, input.category, nowMs, nowMs, (matrix, offset) => {
      matrix.set(input.embedding, offset);
      return true;
    });
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
    skipped = [...loaded.unreadable, ...skipped.filter((s) => loaded.index.rowOf.has(s.id))];
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
      for (let i = 0; i < hits.count; i++) {
        const id = loaded.index.ids[hits.rows[i] as number] as string;
        const checked = checkRecord(MemoryRecord, MEMORY_RECORD_V, db.get(agentKey(agentId, id)));
        if (!checked.ok) continue;
        touched.push(id);
        results.push({
          ...toView(checked.value),
          last_used_at: iso,
          relevance_score: Math.max(0, Math.min(1, hits.scores[i] as number)),
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
    const removed = this.#store.transaction(() => db.removeSync(agentKey(agentId, id)));
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
    for (const [id, iso] of pending) {
      if (skip.has(id)) continue;
      const checked = checkRecord(MemoryRecord, MEMORY_RECORD_V, db.get(agentKey(agentId, id)));
      if (checked.ok) db.putSync(agentKey(agentId, id), { ...checked.value, last_used_at: iso });
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
    const db = this.#store.db('memory');
    const loaded = this.#store.read(`load memory of agent ${agentId}`, () => {
      // fresh range objects: lmdb-js annotates the options object it is given
      const index = new AgentMemoryIndex(model, dims, Math.max(64, db.getKeysCount(agentRange(agentId))));
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
        const sameSpace = rec.embedding_model === model && rec.dims === dims;
        index.add(rec.id, rec.category, Date.parse(rec.created_at), Date.parse(rec.last_used_at), (matrix, offset) => {
          if (!sameSpace) return false;
          decodeEmbeddingInto(rec.embedding, matrix, offset);
          return true;
        });
      }
      return { index, unreadable };
    });
    this.#indexes.set(agentId, loaded);
    return loaded;
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
          if (!db.doesExist(key) || !index.rowOf.has(rec.id)) return;
          db.putSync(key, { ...rec, embedding: encodeEmbedding(vector), embedding_model: model, dims });
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
