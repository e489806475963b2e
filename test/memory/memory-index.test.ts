import { describe, expect, it } from 'vitest';
import { AgentMemoryIndex } from '../../src/memory/memory-index.js';

/** A deterministic pseudo-random source so failures reproduce. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x / 2 ** 32;
  };
}

function vector(dims: number, nonZero: number, rand: () => number): Float32Array {
  const v = new Float32Array(dims);
  for (let k = 0; k < nonZero; k++) v[Math.floor(rand() * dims)] = rand() * 2 - 1;
  return v;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

describe('AgentMemoryIndex.search', () => {
  const dims = 256;
  const rand = lcg(7);
  const rows = Array.from({ length: 400 }, () => vector(dims, 20, rand));
  const index = new AgentMemoryIndex('test-model', dims);
  for (const [i, v] of rows.entries()) {
    index.add(`m${i}`, 'fact', i, i, (matrix, offset) => {
      matrix.set(v, offset);
      return true;
    });
  }

  function reference(query: Float32Array, limit: number): string[] {
    return rows
      .map((v, i) => ({ id: `m${i}`, score: cosine(v, query) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, limit)
      .map((x) => x.id);
  }

  function search(query: Float32Array, limit: number): string[] {
    const hits = index.search(query, limit, 0);
    return Array.from(hits.rows.slice(0, hits.count), (r) => index.ids[r] as string);
  }

  it('ranks like a brute-force cosine for sparse queries (the column-only path)', () => {
    for (let q = 0; q < 20; q++) {
      const query = vector(dims, 12, rand);
      expect(search(query, 5)).toEqual(reference(query, 5));
    }
  });

  it('ranks like a brute-force cosine for dense queries (the full scan)', () => {
    for (let q = 0; q < 20; q++) {
      const query = vector(dims, dims * 4, rand);
      expect(search(query, 5)).toEqual(reference(query, 5));
    }
  });
});
