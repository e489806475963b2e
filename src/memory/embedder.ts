/**
 * Turns texts into vectors for episodic memory. `model` and `dims` identify the vector space:
 * vectors from different spaces are never compared (the store re-embeds instead).
 */
export interface Embedder {
  readonly model: string;
  /** 0 until known, for remote models whose size is learnt from the first reply */
  readonly dims: number;
  /** true when most of each vector is zero (feature hashing): the index then keeps per-dimension lists */
  readonly sparse?: boolean;
  /** one vector per text, in order */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}
