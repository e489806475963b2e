import type { MemoryCategory } from './memory-record.js';

const CATEGORY_CODE: Record<MemoryCategory, number> = { fact: 1, observation: 2, decision: 3, preference: 4 };

export function categoryCode(category: MemoryCategory): number {
  return CATEGORY_CODE[category];
}

export interface SearchHits {
  rows: Int32Array;
  scores: Float64Array;
  count: number;
}

/**
 * One agent's memories in flat typed arrays: row r's vector is matrix[r*dims .. (r+1)*dims).
 * Search walks the arrays without allocating per record; removal swaps the last row in.
 * A stale row (embedded in another vector space) is kept for counting and LRU but not scored.
 */
export class AgentMemoryIndex {
  readonly dims: number;
  readonly model: string;
  size = 0;
  ids: string[] = [];
  readonly rowOf = new Map<string, number>();
  matrix: Float32Array;
  norms: Float32Array;
  lastUsed: Float64Array;
  created: Float64Array;
  category: Uint8Array;
  stale: Uint8Array;
  staleCount = 0;

  constructor(model: string, dims: number, capacity = 64) {
    this.model = model;
    this.dims = dims;
    const cap = Math.max(1, capacity);
    this.matrix = new Float32Array(cap * dims);
    this.norms = new Float32Array(cap);
    this.lastUsed = new Float64Array(cap);
    this.created = new Float64Array(cap);
    this.category = new Uint8Array(cap);
    this.stale = new Uint8Array(cap);
  }

  get capacity(): number {
    return this.norms.length;
  }

  /** Appends a row; `fill` writes the vector in place (or leaves it stale when it returns false). */
  add(
    id: string,
    category: MemoryCategory,
    createdMs: number,
    lastUsedMs: number,
    fill: (matrix: Float32Array, offset: number) => boolean,
  ): number {
    if (this.size === this.capacity) this.#grow(this.capacity * 2);
    const row = this.size++;
    this.ids[row] = id;
    this.rowOf.set(id, row);
    this.category[row] = categoryCode(category);
    this.created[row] = createdMs;
    this.lastUsed[row] = lastUsedMs;
    const offset = row * this.dims;
    if (fill(this.matrix, offset)) {
      this.stale[row] = 0;
      this.norms[row] = this.#norm(offset);
    } else {
      this.matrix.fill(0, offset, offset + this.dims);
      this.stale[row] = 1;
      this.norms[row] = 0;
      this.staleCount++;
    }
    return row;
  }

  setVector(id: string, vector: Float32Array): void {
    const row = this.rowOf.get(id);
    if (row === undefined) return;
    const offset = row * this.dims;
    this.matrix.set(vector.subarray(0, this.dims), offset);
    this.norms[row] = this.#norm(offset);
    if (this.stale[row] === 1) {
      this.stale[row] = 0;
      this.staleCount--;
    }
  }

  remove(id: string): boolean {
    const row = this.rowOf.get(id);
    if (row === undefined) return false;
    if (this.stale[row] === 1) this.staleCount--;
    const last = this.size - 1;
    if (row !== last) {
      const lastId = this.ids[last] as string;
      this.matrix.copyWithin(row * this.dims, last * this.dims, (last + 1) * this.dims);
      this.norms[row] = this.norms[last] ?? 0;
      this.lastUsed[row] = this.lastUsed[last] ?? 0;
      this.created[row] = this.created[last] ?? 0;
      this.category[row] = this.category[last] ?? 0;
      this.stale[row] = this.stale[last] ?? 0;
      this.ids[row] = lastId;
      this.rowOf.set(lastId, row);
    }
    this.ids.length = last;
    this.rowOf.delete(id);
    this.size = last;
    return true;
  }

  touch(id: string, ms: number): void {
    const row = this.rowOf.get(id);
    if (row !== undefined) this.lastUsed[row] = ms;
  }

  staleIds(): string[] {
    const out: string[] = [];
    for (let r = 0; r < this.size; r++) if (this.stale[r] === 1) out.push(this.ids[r] as string);
    return out;
  }

  /** The least recently used row not in `exclude` (ties: the older one). */
  lruVictim(exclude: ReadonlySet<string>): string | undefined {
    let best = -1;
    for (let r = 0; r < this.size; r++) {
      if (exclude.size > 0 && exclude.has(this.ids[r] as string)) continue;
      if (
        best < 0 ||
        (this.lastUsed[r] as number) < (this.lastUsed[best] as number) ||
        (this.lastUsed[r] === this.lastUsed[best] && (this.created[r] as number) < (this.created[best] as number))
      ) {
        best = r;
      }
    }
    return best < 0 ? undefined : this.ids[best];
  }

  /** Top `limit` rows by cosine similarity to `query`, best first; `category` 0 means any. */
  search(query: Float32Array, limit: number, category: number): SearchHits {
    const dims = this.dims;
    const m = this.matrix;
    let qn = 0;
    for (let j = 0; j < dims; j++) qn += (query[j] as number) * (query[j] as number);
    qn = Math.sqrt(qn);
    const rows = new Int32Array(limit);
    const scores = new Float64Array(limit);
    let count = 0;
    if (qn === 0) return { rows, scores, count };
    // A sparse query (the offline hashed embedder gives ~50 non-zero of 512 dimensions) only
    // needs those columns of each row: several times fewer multiplications than a dense scan.
    let nnz = 0;
    for (let j = 0; j < dims; j++) if (query[j] !== 0) nnz++;
    const sparse = nnz * 4 <= dims;
    const idx = new Int32Array(sparse ? nnz : 0);
    const val = new Float32Array(sparse ? nnz : 0);
    if (sparse) {
      let k = 0;
      for (let j = 0; j < dims; j++) {
        if (query[j] !== 0) {
          idx[k] = j;
          val[k++] = query[j] as number;
        }
      }
    }
    for (let r = 0; r < this.size; r++) {
      if (this.stale[r] === 1) continue;
      if (category !== 0 && this.category[r] !== category) continue;
      const rn = this.norms[r] as number;
      if (rn === 0) continue;
      let dot = 0;
      const base = r * dims;
      if (sparse) {
        for (let k = 0; k < nnz; k++) dot += (m[base + (idx[k] as number)] as number) * (val[k] as number);
      } else {
        for (let j = 0; j < dims; j++) dot += (m[base + j] as number) * (query[j] as number);
      }
      const score = dot / (rn * qn);
      if (count === limit && score <= (scores[count - 1] as number)) continue;
      // insertion into the small sorted top list
      let at = count < limit ? count++ : limit - 1;
      while (at > 0 && (scores[at - 1] as number) < score) {
        scores[at] = scores[at - 1] as number;
        rows[at] = rows[at - 1] as number;
        at--;
      }
      scores[at] = score;
      rows[at] = r;
    }
    return { rows, scores, count };
  }

  #norm(offset: number): number {
    let s = 0;
    for (let j = 0; j < this.dims; j++) {
      const x = this.matrix[offset + j] as number;
      s += x * x;
    }
    return Math.sqrt(s);
  }

  #grow(capacity: number): void {
    const matrix = new Float32Array(capacity * this.dims);
    matrix.set(this.matrix);
    this.matrix = matrix;
    const grow = <A extends Float32Array | Float64Array | Uint8Array>(old: A, make: (n: number) => A): A => {
      const next = make(capacity);
      next.set(old as never);
      return next;
    };
    this.norms = grow(this.norms, (n) => new Float32Array(n));
    this.lastUsed = grow(this.lastUsed, (n) => new Float64Array(n));
    this.created = grow(this.created, (n) => new Float64Array(n));
    this.category = grow(this.category, (n) => new Uint8Array(n));
    this.stale = grow(this.stale, (n) => new Uint8Array(n));
  }
}
