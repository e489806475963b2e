import { forEachNonZero, normOf, type IndexVector, type VectorLayout } from './vector-layout.js';

/**
 * Dense float32 rows, row s at [s*dims, (s+1)*dims): for embedders whose vectors are mostly
 * non-zero (remote models), where a per-dimension index would touch every row anyway.
 * Scoring a sparse query reads only its non-zero columns of each row.
 */
export class DenseRows implements VectorLayout {
  readonly #dims: number;
  #matrix: Float32Array;
  /** 1 where the slot holds a vector (0: all-zero, never scored) */
  #has: Uint8Array;
  #slots = 0;

  constructor(dims: number, capacity = 64) {
    this.#dims = dims;
    const cap = Math.max(1, capacity);
    this.#matrix = new Float32Array(cap * dims);
    this.#has = new Uint8Array(cap);
  }

  append(slot: number, vector: IndexVector): number {
    this.#reserve(slot + 1);
    this.#slots = slot + 1;
    const norm = normOf(vector, this.#dims);
    const offset = slot * this.#dims;
    this.#matrix.fill(0, offset, offset + this.#dims);
    this.#has[slot] = norm > 0 ? 1 : 0;
    if (norm === 0) return 0;
    const m = this.#matrix;
    forEachNonZero(vector, this.#dims, (j, x) => {
      m[offset + j] = x / norm;
    });
    return norm;
  }

  score(query: Float32Array, acc: Float32Array): void {
    const dims = this.#dims;
    const m = this.#matrix;
    let nnz = 0;
    for (let j = 0; j < dims; j++) if (query[j] !== 0) nnz++;
    // a sparse query only needs its columns of each row
    const sparse = nnz * 4 <= dims;
    const idx = new Int32Array(nnz);
    const val = new Float32Array(nnz);
    let k = 0;
    for (let j = 0; j < dims; j++) {
      if (query[j] !== 0) {
        idx[k] = j;
        val[k++] = query[j] as number;
      }
    }
    for (let s = 0; s < this.#slots; s++) {
      if (this.#has[s] === 0) continue;
      const base = s * dims;
      let dot = 0;
      if (sparse) {
        for (let t = 0; t < nnz; t++) dot += (m[base + (idx[t] as number)] as number) * (val[t] as number);
      } else {
        for (let j = 0; j < dims; j++) dot += (m[base + j] as number) * (query[j] as number);
      }
      acc[s] = dot;
    }
  }

  compact(remap: Int32Array, slots: number): void {
    const dims = this.#dims;
    for (let s = 0; s < this.#slots; s++) {
      const to = remap[s] as number;
      if (to < 0 || to === s) continue;
      this.#matrix.copyWithin(to * dims, s * dims, (s + 1) * dims);
      this.#has[to] = this.#has[s] as number;
    }
    this.#slots = slots;
  }

  trim(slots: number): void {
    const cap = Math.max(1, slots);
    if (cap >= this.#has.length) return;
    this.#matrix = this.#matrix.slice(0, cap * this.#dims);
    this.#has = this.#has.slice(0, cap);
  }

  bytes(): number {
    return this.#matrix.byteLength + this.#has.byteLength;
  }

  #reserve(slots: number): void {
    if (slots <= this.#has.length) return;
    const cap = Math.max(slots, Math.ceil(this.#has.length * 1.5));
    const matrix = new Float32Array(cap * this.#dims);
    matrix.set(this.#matrix);
    this.#matrix = matrix;
    const has = new Uint8Array(cap);
    has.set(this.#has);
    this.#has = has;
  }
}
