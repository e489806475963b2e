/**
 * A vector given to an index: dense (one float per dimension) or sparse (the non-zero
 * dimensions and their values, indices ascending or not).
 */
export type IndexVector = Float32Array | { readonly index: ArrayLike<number>; readonly value: ArrayLike<number> };

/**
 * How one agent's vectors are laid out for scoring. Slots are appended in increasing order and
 * never rewritten: a replaced or removed vector keeps its slot until `compact` renumbers them.
 */
export interface VectorLayout {
  /**
   * Stores the vector of `slot` (the next slot, in order), divided by its L2 norm so scoring
   * needs no per-row division. Returns that norm (0: an all-zero vector, which is not stored).
   */
  append(slot: number, vector: IndexVector): number;
  /** `acc[s]` = dot(query, slot s's vector / its norm) for every stored slot; others untouched. */
  score(query: Float32Array, acc: Float32Array): void;
  /** Keeps the slots with `remap[s] ≥ 0`, renumbered to `remap[s]` (which preserves order). */
  compact(remap: Int32Array, slots: number): void;
  /** Frees spare capacity (after a bulk load). */
  trim(slots: number): void;
  /** bytes held by the layout's arrays */
  bytes(): number;
}

/** Visits the non-zero entries of a vector as (dimension, value), ignoring dimensions ≥ dims. */
export function forEachNonZero(vector: IndexVector, dims: number, visit: (dim: number, value: number) => void): void {
  if (vector instanceof Float32Array) {
    const n = Math.min(dims, vector.length);
    for (let j = 0; j < n; j++) {
      const x = vector[j] as number;
      if (x !== 0) visit(j, x);
    }
    return;
  }
  const n = Math.min(vector.index.length, vector.value.length);
  for (let k = 0; k < n; k++) {
    const j = vector.index[k] as number;
    const x = vector.value[k] as number;
    if (x !== 0 && j >= 0 && j < dims) visit(j, x);
  }
}

/** L2 norm in float64 (0 for an empty or all-zero vector). */
export function normOf(vector: IndexVector, dims: number): number {
  let s = 0;
  forEachNonZero(vector, dims, (_j, x) => {
    s += x * x;
  });
  return Math.sqrt(s);
}
