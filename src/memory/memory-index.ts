import { DenseRows } from './dense-rows.js';
import type { MemoryCategory } from './memory-record.js';
import { SparsePostings } from './sparse-postings.js';
import type { IndexVector, VectorLayout } from './vector-layout.js';

const CATEGORY_CODE: Record<MemoryCategory, number> = { fact: 1, observation: 2, decision: 3, preference: 4 };
const CATEGORY_OF: Record<number, MemoryCategory> = { 1: 'fact', 2: 'observation', 3: 'decision', 4: 'preference' };

export function categoryCode(category: MemoryCategory): number {
  return CATEGORY_CODE[category];
}

/** The category of a stored code, undefined for an unknown one. */
export function categoryOfCode(code: number): MemoryCategory | undefined {
  return CATEGORY_OF[code];
}

export interface SearchHit {
  id: string;
  /** cosine similarity */
  score: number;
}

/** `sparse`: an inverted list per dimension (hashed n-grams); `dense`: rows (remote models). */
export type IndexLayout = 'sparse' | 'dense';

// slot states
const DEAD = 0;
const SCORED = 1;
/** embedded in another vector space: counted and evictable, not scored until re-embedded */
const STALE = 2;
/** an all-zero vector: no direction, so it matches nothing */
const ZERO = 3;

/**
 * One agent's memories: ids, categories and use times per slot, and the vectors in a
 * `VectorLayout`. Slots are append-only: removing or re-embedding a memory leaves a dead slot,
 * and the dead are compacted away once they are a quarter of all slots, so removal costs
 * amortised O(1) and a slot number stays valid until the next compaction.
 */
export class AgentMemoryIndex {
  readonly dims: number;
  readonly model: string;
  readonly layout: IndexLayout;
  #vectors: VectorLayout;
  /** live memories (stale and all-zero ones included) */
  size = 0;
  staleCount = 0;
  #slots = 0;
  #ids: Array<string | undefined> = [];
  readonly #slotOf = new Map<string, number>();
  #state: Uint8Array;
  #category: Uint8Array;
  #created: Float64Array;
  #lastUsed: Float64Array;
  #acc: Float32Array = new Float32Array(0);

  constructor(model: string, dims: number, layout: IndexLayout, capacity = 64) {
    this.model = model;
    this.dims = dims;
    this.layout = layout;
    const cap = Math.max(1, capacity);
    this.#vectors = layout === 'sparse' ? new SparsePostings(dims) : new DenseRows(dims, cap);
    this.#state = new Uint8Array(cap);
    this.#category = new Uint8Array(cap);
    this.#created = new Float64Array(cap);
    this.#lastUsed = new Float64Array(cap);
  }

  has(id: string): boolean {
    return this.#slotOf.has(id);
  }

  /** Adds a memory; `vector` undefined marks it stale (from another vector space). */
  add(id: string, category: MemoryCategory, createdMs: number, lastUsedMs: number, vector?: IndexVector): void {
    if (this.#slotOf.has(id)) this.remove(id);
    const slot = this.#slots;
    this.#reserve(slot + 1);
    this.#slots = slot + 1;
    this.#ids[slot] = id;
    this.#slotOf.set(id, slot);
    this.#category[slot] = categoryCode(category);
    this.#created[slot] = createdMs;
    this.#lastUsed[slot] = lastUsedMs;
    this.size++;
    if (vector === undefined) {
      this.#state[slot] = STALE;
      this.staleCount++;
      return;
    }
    this.#state[slot] = this.#vectors.append(slot, vector) > 0 ? SCORED : ZERO;
  }

  /** Gives a (re-embedded) memory its new vector, keeping its category and use times. */
  setVector(id: string, vector: IndexVector): void {
    const slot = this.#slotOf.get(id);
    if (slot === undefined) return;
    const category = categoryOfCode(this.#category[slot] as number) ?? 'fact';
    this.add(id, category, this.#created[slot] as number, this.#lastUsed[slot] as number, vector);
  }

  remove(id: string): boolean {
    const slot = this.#slotOf.get(id);
    if (slot === undefined) return false;
    if (this.#state[slot] === STALE) this.staleCount--;
    this.#state[slot] = DEAD;
    this.#ids[slot] = undefined;
    this.#slotOf.delete(id);
    this.size--;
    const dead = this.#slots - this.size;
    if (dead >= 64 && dead * 4 >= this.#slots) this.#compact();
    return true;
  }

  touch(id: string, ms: number): void {
    const slot = this.#slotOf.get(id);
    if (slot !== undefined) this.#lastUsed[slot] = ms;
  }

  lastUsed(id: string): number | undefined {
    const slot = this.#slotOf.get(id);
    return slot === undefined ? undefined : this.#lastUsed[slot];
  }

  staleIds(): string[] {
    const out: string[] = [];
    for (let s = 0; s < this.#slots; s++) if (this.#state[s] === STALE) out.push(this.#ids[s] as string);
    return out;
  }

  /** The least recently used memory not in `exclude` (ties: the older one). */
  lruVictim(exclude: ReadonlySet<string>): string | undefined {
    let best = -1;
    for (let s = 0; s < this.#slots; s++) {
      if (this.#state[s] === DEAD) continue;
      if (exclude.size > 0 && exclude.has(this.#ids[s] as string)) continue;
      if (
        best < 0 ||
        (this.#lastUsed[s] as number) < (this.#lastUsed[best] as number) ||
        (this.#lastUsed[s] === this.#lastUsed[best] && (this.#created[s] as number) < (this.#created[best] as number))
      ) {
        best = s;
      }
    }
    return best < 0 ? undefined : this.#ids[best];
  }

  /**
   * The `limit` memories most similar to `query` by cosine, best first (ties: the earlier
   * slot); `category` 0 means any. An all-zero query matches nothing.
   */
  search(query: Float32Array, limit: number, category: number): SearchHit[] {
    const k = Math.min(Math.max(0, Math.floor(limit)), this.size);
    let qn = 0;
    for (let j = 0; j < Math.min(this.dims, query.length); j++) qn += (query[j] as number) * (query[j] as number);
    qn = Math.sqrt(qn);
    if (k === 0 || qn === 0 || !Number.isFinite(qn)) return [];
    if (this.#acc.length < this.#slots) this.#acc = new Float32Array(this.#state.length);
    const acc = this.#acc;
    acc.fill(0, 0, this.#slots);
    this.#vectors.score(query, acc);
    const slots = new Int32Array(k);
    const dots = new Float64Array(k);
    let count = 0;
    const state = this.#state;
    const cats = this.#category;
    for (let s = 0; s < this.#slots; s++) {
      const dot = acc[s] as number;
      if (count === k && dot <= (dots[k - 1] as number)) continue;
      if (state[s] !== SCORED || (category !== 0 && cats[s] !== category)) continue;
      // insertion into the small sorted top list
      let at = count < k ? count++ : k - 1;
      while (at > 0 && (dots[at - 1] as number) < dot) {
        dots[at] = dots[at - 1] as number;
        slots[at] = slots[at - 1] as number;
        at--;
      }
      dots[at] = dot;
      slots[at] = s;
    }
    const hits: SearchHit[] = [];
    for (let i = 0; i < count; i++)
      hits.push({ id: this.#ids[slots[i] as number] as string, score: (dots[i] as number) / qn });
    return hits;
  }

  /** Frees spare capacity after a bulk load. */
  trim(): void {
    this.#vectors.trim(this.#slots);
  }

  /** Bytes held by the index's typed arrays (ids and the id map not counted). */
  bytes(): number {
    return (
      this.#vectors.bytes() +
      this.#state.byteLength +
      this.#category.byteLength +
      this.#created.byteLength +
      this.#lastUsed.byteLength +
      this.#acc.byteLength
    );
  }

  #compact(): void {
    const remap = new Int32Array(this.#slots);
    let to = 0;
    for (let s = 0; s < this.#slots; s++) {
      if (this.#state[s] === DEAD) {
        remap[s] = -1;
        continue;
      }
      remap[s] = to;
      if (to !== s) {
        const id = this.#ids[s] as string;
        this.#ids[to] = id;
        this.#slotOf.set(id, to);
        this.#state[to] = this.#state[s] as number;
        this.#category[to] = this.#category[s] as number;
        this.#created[to] = this.#created[s] as number;
        this.#lastUsed[to] = this.#lastUsed[s] as number;
      }
      to++;
    }
    this.#vectors.compact(remap, to);
    this.#ids.length = to;
    this.#state.fill(DEAD, to, this.#slots);
    this.#slots = to;
  }

  #reserve(slots: number): void {
    if (slots <= this.#state.length) return;
    const cap = Math.max(slots, this.#state.length * 2);
    const grow = <A extends Float64Array | Uint8Array>(old: A, make: (n: number) => A): A => {
      const next = make(cap);
      next.set(old as never);
      return next;
    };
    this.#state = grow(this.#state, (n) => new Uint8Array(n));
    this.#category = grow(this.#category, (n) => new Uint8Array(n));
    this.#created = grow(this.#created, (n) => new Float64Array(n));
    this.#lastUsed = grow(this.#lastUsed, (n) => new Float64Array(n));
  }
}
