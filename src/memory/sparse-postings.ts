import { normOf, type IndexVector, type VectorLayout } from './vector-layout.js';

/**
 * An inverted layout for sparse vectors (the offline hashed n-gram embedder fills ~90 of 512
 * dimensions): per dimension, the slots that use it and their normalised weights, in slot
 * order. A query walks only the lists of its own non-zero dimensions and adds each weight
 * into an accumulator, so its cost is the number of postings it touches, not rows × dims.
 * Weights are float32 as stored, so scores are the exact scan's up to float rounding.
 */
export class SparsePostings implements VectorLayout {
  readonly #dims: number;
  readonly #slotsOf: Int32Array[] = [];
  readonly #weightsOf: Float32Array[] = [];
  readonly #length: Int32Array;

  constructor(dims: number) {
    this.#dims = dims;
    this.#length = new Int32Array(dims);
    for (let j = 0; j < dims; j++) {
      this.#slotsOf.push(new Int32Array(0));
      this.#weightsOf.push(new Float32Array(0));
    }
  }

  append(slot: number, vector: IndexVector): number {
    const norm = normOf(vector, this.#dims);
    if (norm === 0) return 0;
    if (vector instanceof Float32Array) {
      const n = Math.min(this.#dims, vector.length);
      for (let j = 0; j < n; j++) {
        const x = vector[j] as number;
        if (x !== 0) this.#push(j, slot, x / norm);
      }
    } else {
      const n = Math.min(vector.index.length, vector.value.length);
      for (let k = 0; k < n; k++) {
        const j = vector.index[k] as number;
        const x = vector.value[k] as number;
        if (x !== 0 && j >= 0 && j < this.#dims) this.#push(j, slot, x / norm);
      }
    }
    return norm;
  }

  #push(j: number, slot: number, weight: number): void {
    const n = this.#length[j] as number;
    let slots = this.#slotsOf[j] as Int32Array;
    if (n === slots.length) {
      this.#grow(j, Math.max(16, Math.ceil(n * 1.5)));
      slots = this.#slotsOf[j] as Int32Array;
    }
    slots[n] = slot;
    (this.#weightsOf[j] as Float32Array)[n] = weight;
    this.#length[j] = n + 1;
  }

  score(query: Float32Array, acc: Float32Array): void {
    const dims = Math.min(this.#dims, query.length);
    for (let j = 0; j < dims; j++) {
      const q = query[j] as number;
      if (q === 0) continue;
      const slots = this.#slotsOf[j] as Int32Array;
      const weights = this.#weightsOf[j] as Float32Array;
      const n = this.#length[j] as number;
      for (let p = 0; p < n; p++) {
        const s = slots[p] as number;
        acc[s] = (acc[s] as number) + q * (weights[p] as number);
      }
    }
  }

  compact(remap: Int32Array, _slots: number): void {
    for (let j = 0; j < this.#dims; j++) {
      const slots = this.#slotsOf[j] as Int32Array;
      const weights = this.#weightsOf[j] as Float32Array;
      const n = this.#length[j] as number;
      let w = 0;
      for (let p = 0; p < n; p++) {
        const to = remap[slots[p] as number] as number;
        if (to < 0) continue;
        slots[w] = to;
        weights[w++] = weights[p] as number;
      }
      this.#length[j] = w;
    }
  }

  trim(_slots: number): void {
    for (let j = 0; j < this.#dims; j++) {
      if ((this.#slotsOf[j] as Int32Array).length > (this.#length[j] as number))
        this.#grow(j, this.#length[j] as number);
    }
  }

  bytes(): number {
    let b = this.#length.byteLength;
    for (let j = 0; j < this.#dims; j++)
      b += (this.#slotsOf[j] as Int32Array).byteLength + (this.#weightsOf[j] as Float32Array).byteLength;
    return b;
  }

  #grow(j: number, capacity: number): void {
    const n = this.#length[j] as number;
    const slots = new Int32Array(capacity);
    slots.set((this.#slotsOf[j] as Int32Array).subarray(0, n));
    const weights = new Float32Array(capacity);
    weights.set((this.#weightsOf[j] as Float32Array).subarray(0, n));
    this.#slotsOf[j] = slots;
    this.#weightsOf[j] = weights;
  }
}
