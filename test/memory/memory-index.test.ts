import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentMemoryIndex, type IndexLayout } from '../../src/memory/memory-index.js';
import type { MemoryCategory } from '../../src/memory/memory-record.js';

const CATEGORIES: MemoryCategory[] = ['fact', 'observation', 'decision', 'preference'];
const CODE: Record<MemoryCategory, number> = { fact: 1, observation: 2, decision: 3, preference: 4 };

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

interface Row {
  id: string;
  category: MemoryCategory;
  vector: Float32Array | undefined;
}

/** The exact scan: cosine of every scored row in float64, best first, ties by insertion order. */
function bruteForce(rows: readonly Row[], query: Float32Array, limit: number, category?: MemoryCategory) {
  let qn = 0;
  for (const x of query) qn += x * x;
  if (qn === 0) return [];
  return rows
    .filter((r) => r.vector?.some((x) => x !== 0))
    .filter((r) => category === undefined || r.category === category)
    .map((r) => ({ id: r.id, score: cosine(r.vector as Float32Array, query) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, limit);
}

// float32 weights and accumulation against a float64 reference: ~1e-6 apart at most
const EPS = 1e-5;

/**
 * The index's top-k is the exact one: the same scores in order (within float rounding), each
 * hit's reported score is its true cosine, and where the reference has a clear gap after a hit
 * the same id is at that place.
 */
function expectSameTopK(
  got: Array<{ id: string; score: number }>,
  want: Array<{ id: string; score: number }>,
  truth: Map<string, number>,
): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i] as { id: string; score: number };
    const w = want[i] as { id: string; score: number };
    expect(Math.abs(g.score - w.score)).toBeLessThan(EPS);
    expect(Math.abs(g.score - (truth.get(g.id) as number))).toBeLessThan(EPS);
    const prev = want[i - 1]?.score ?? Number.POSITIVE_INFINITY;
    const next = want[i + 1]?.score ?? Number.NEGATIVE_INFINITY;
    if (prev - w.score > 2 * EPS && w.score - next > 2 * EPS) expect(g.id).toBe(w.id);
  }
  expect(new Set(got.map((g) => g.id)).size).toBe(got.length);
}

describe.each<IndexLayout>(['sparse', 'dense'])('AgentMemoryIndex (%s layout)', (layout) => {
  it('ranks like a brute-force cosine for sparse and dense queries', () => {
    const dims = 256;
    const rand = lcg(7);
    const rows: Row[] = Array.from({ length: 400 }, (_, i) => ({
      id: `m${i}`,
      category: CATEGORIES[i % 4] as MemoryCategory,
      vector: vector(dims, 20, rand),
    }));
    const index = new AgentMemoryIndex('test-model', dims, layout);
    for (const r of rows) index.add(r.id, r.category, 0, 0, r.vector);
    for (let q = 0; q < 40; q++) {
      const query = vector(dims, q % 2 === 0 ? 12 : dims * 4, rand);
      const truth = new Map(rows.map((r) => [r.id, cosine(r.vector as Float32Array, query)]));
      expectSameTopK(index.search(query, 5, 0), bruteForce(rows, query, 5), truth);
      expectSameTopK(index.search(query, 7, CODE.decision), bruteForce(rows, query, 7, 'decision'), truth);
    }
  });

  it('keeps the exact top-k through random adds, removals, re-embeddings and stale rows (property)', () => {
    const dims = 32;
    const op = fc.oneof(
      {
        arbitrary: fc.record({
          kind: fc.constant('add' as const),
          seed: fc.nat(),
          nnz: fc.nat({ max: 40 }),
          cat: fc.nat({ max: 3 }),
          stale: fc.boolean(),
        }),
        weight: 6,
      },
      { arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }), weight: 3 },
      { arbitrary: fc.record({ kind: fc.constant('reembed' as const), pick: fc.nat(), seed: fc.nat() }), weight: 1 },
      {
        arbitrary: fc.record({
          kind: fc.constant('query' as const),
          seed: fc.nat(),
          nnz: fc.nat({ max: 40 }),
          limit: fc.integer({ min: -3, max: 30 }),
          cat: fc.nat({ max: 4 }),
        }),
        weight: 2,
      },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 250 }), (ops) => {
        const index = new AgentMemoryIndex('m', dims, layout, 1);
        const rows: Row[] = [];
        let next = 0;
        for (const o of ops) {
          if (o.kind === 'add') {
            const row: Row = {
              id: `r${next++}`,
              category: CATEGORIES[o.cat] as MemoryCategory,
              // nnz 0 gives an all-zero vector: kept, counted, never a hit
              vector: o.stale ? undefined : vector(dims, o.nnz, lcg(o.seed)),
            };
            rows.push(row);
            index.add(row.id, row.category, next, next, row.vector);
          } else if (o.kind === 'remove' && rows.length > 0) {
            const [gone] = rows.splice(o.pick % rows.length, 1);
            expect(index.remove((gone as Row).id)).toBe(true);
            expect(index.remove((gone as Row).id)).toBe(false);
          } else if (o.kind === 'reembed' && rows.length > 0) {
            const row = rows[o.pick % rows.length] as Row;
            row.vector = vector(dims, 8, lcg(o.seed));
            index.setVector(row.id, row.vector);
          } else if (o.kind === 'query') {
            const query = vector(dims, o.nnz, lcg(o.seed));
            const category = o.cat === 0 ? undefined : (CATEGORIES[o.cat - 1] as MemoryCategory);
            const limit = Math.max(0, o.limit);
            const truth = new Map(rows.map((r) => [r.id, r.vector ? cosine(r.vector, query) : 0]));
            // the reference keeps insertion order for ties; re-embedded rows moved to the end
            expectSameTopK(
              index.search(query, o.limit, category ? CODE[category] : 0),
              bruteForce(rows, query, limit, category),
              truth,
            );
          }
          expect(index.size).toBe(rows.length);
          expect(index.staleCount).toBe(rows.filter((r) => r.vector === undefined).length);
        }
        expect(index.staleIds().sort()).toEqual(
          rows
            .filter((r) => r.vector === undefined)
            .map((r) => r.id)
            .sort(),
        );
      }),
      { numRuns: 150 },
    );
  });

  it('answers an all-zero, NaN or huge-limit query without failing', () => {
    const index = new AgentMemoryIndex('m', 8, layout);
    index.add('a', 'fact', 0, 0, Float32Array.from([1, 0, 0, 0, 0, 0, 0, 0]));
    index.add('zero', 'fact', 0, 0, new Float32Array(8));
    expect(index.search(new Float32Array(8), 5, 0)).toEqual([]);
    expect(index.search(Float32Array.from([Number.NaN, 0, 0, 0, 0, 0, 0, 0]), 5, 0)).toEqual([]);
    expect(index.search(Float32Array.from([1, 0, 0, 0, 0, 0, 0, 0]), 2 ** 31, 0)).toEqual([{ id: 'a', score: 1 }]);
    expect(index.size).toBe(2);
  });

  it('evicts the least recently used, older first on ties, across compactions', () => {
    const index = new AgentMemoryIndex('m', 4, layout);
    for (let i = 0; i < 300; i++) index.add(`m${i}`, 'fact', i, 1000 - i, Float32Array.from([1, i, 0, 0]));
    for (let i = 0; i < 200; i++) index.remove(`m${i}`);
    index.touch('m299', 5000);
    expect(index.lruVictim(new Set())).toBe('m298');
    expect(index.lruVictim(new Set(['m298']))).toBe('m297');
    expect(index.size).toBe(100);
  });
});
