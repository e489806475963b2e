import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Embedder } from '../../src/memory/embedder.js';
import { HashedNgramEmbedder } from '../../src/memory/hashed-ngram-embedder.js';
import { decodeIndexEntry } from '../../src/memory/index-entry.js';
import { MemoryStore } from '../../src/memory/memory-store.js';
import { agentKey } from '../../src/store/keys.js';
import { openStore, type RecordIssue, type Store } from '../../src/store/lmdb-env.js';

let dir: string;
let store: Store;
let issues: RecordIssue[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aaos-memory-'));
  issues = [];
  store = openStore(dir, { onInvalid: (i) => issues.push(i) });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const A = 'agent-a';
const B = 'agent-b';
const big = { maxRecords: 10_000 };

async function remember(
  mem: MemoryStore,
  agent: string,
  content: string,
  category: 'fact' | 'observation' | 'decision' | 'preference' = 'fact',
  limits = big,
  replaces?: string,
) {
  const [embedding] = await mem.embedder.embed([content]);
  return mem.store(agent, { content, category, embedding: embedding!, ...(replaces ? { replaces } : {}) }, limits);
}

async function ask(
  mem: MemoryStore,
  agent: string,
  text: string,
  options: { limit?: number; category?: 'fact' | 'preference' } = {},
) {
  const [embedding] = await mem.embedder.embed([text]);
  return mem.query(agent, embedding!, options);
}

/** Scores in order, and the ids above the last score (tied ones may come in any order). */
function ranking(results: Array<{ id: string; relevance_score: number; category: string }>) {
  const last = results.at(-1)?.relevance_score ?? 0;
  return {
    scores: results.map((r) => r.relevance_score.toFixed(6)),
    sure: results
      .filter((r) => r.relevance_score > last + 1e-6)
      .map((r) => `${r.id} ${r.category}`)
      .sort(),
  };
}

describe('MemoryStore', () => {
  it('stores and ranks by similarity, without returning vectors', async () => {
    const mem = new MemoryStore(store, new HashedNgramEmbedder());
    await remember(mem, A, 'The deployment target is a Kubernetes cluster in Frankfurt');
    await remember(mem, A, 'Alice prefers green tea in the morning', 'preference');
    await remember(mem, A, 'Quarterly revenue rose in Europe');
    const { results, skipped } = await ask(mem, A, 'which cluster do we deploy to?');
    expect(skipped).toEqual([]);
    expect(results[0]?.content).toMatch(/Kubernetes cluster/);
    expect(results[0]!.relevance_score).toBeGreaterThan(results[1]?.relevance_score ?? 0);
    expect(results[0]).not.toHaveProperty('embedding');
    expect(results[0]).toMatchObject({ agent_id: A, category: 'fact', embedding_model: 'hashed-ngram-v1', dims: 512 });
    const prefs = await ask(mem, A, 'tea', { category: 'preference' });
    expect(prefs.results.map((r) => r.category)).toEqual(['preference']);
    expect((await ask(mem, A, 'anything', { limit: 1 })).results).toHaveLength(1);
  });

  it('keeps agents apart: queries, deletes and replaces never cross agents', async () => {
    const mem = new MemoryStore(store, new HashedNgramEmbedder());
    const { id: secret } = await remember(mem, A, 'the launch code is 1234');
    await remember(mem, B, 'the lunch menu has soup');
    const seenByB = await ask(mem, B, 'launch code');
    expect(seenByB.results.map((r) => r.content)).toEqual(['the lunch menu has soup']);
    expect(() => mem.delete(B, secret)).toThrow(expect.objectContaining({ code: 'AAOS_ERR_MEMORY_NOT_FOUND' }));
    await expect(remember(mem, B, 'overwrite', 'fact', big, secret)).rejects.toMatchObject({
      code: 'AAOS_ERR_MEMORY_NOT_FOUND',
    });
    expect(mem.count(A)).toBe(1);
    expect(mem.count(B)).toBe(1);
    expect(mem.list(A).map((m) => m.id)).toEqual([secret]);
  });

  it('evicts the least recently used at the cap; a query hit keeps a record alive', async () => {
    let now = 1_000;
    const mem = new MemoryStore(store, new HashedNgramEmbedder(), { now: () => (now += 1000) });
    const cap = { maxRecords: 3 };
    const { id: oldButUsed } = await remember(mem, A, 'the database password rotates monthly', 'fact', cap);
    const { id: neverUsed } = await remember(mem, A, 'the office plant needs water', 'fact', cap);
    const { id: third } = await remember(mem, A, 'standup is at nine', 'fact', cap);
    // touch the oldest record
    const hit = await ask(mem, A, 'database password rotation', { limit: 1 });
    expect(hit.results[0]?.id).toBe(oldButUsed);
    const { id: fourth, evicted } = await remember(mem, A, 'the release is on friday', 'fact', cap);
    expect(evicted).toEqual([neverUsed]);
    expect(mem.count(A).valueOf()).toBe(3);
    expect(new Set(mem.list(A).map((m) => m.id))).toEqual(new Set([oldButUsed, third, fourth]));
    // the eviction was persisted, and last_used_at survives a reopen
    await store.close();
    store = openStore(dir);
    const again = new MemoryStore(store, new HashedNgramEmbedder(), { now: () => (now += 1000) });
    expect(again.count(A)).toBe(3);
    const { evicted: next } = await remember(again, A, 'lunch is at noon', 'fact', cap);
    expect(next).toEqual([third]);
  });

  it('replaces atomically: old gone and new present in one step, or neither', async () => {
    const mem = new MemoryStore(store, new HashedNgramEmbedder());
    const { id: old } = await remember(mem, A, 'the API lives at v1.example.com');
    const { id: fresh } = await remember(mem, A, 'the API lives at v2.example.com', 'fact', big, old);
    expect(mem.list(A).map((m) => [m.id, m.replaces])).toEqual([[fresh, old]]);
    expect(() => mem.delete(A, old)).toThrow(expect.objectContaining({ code: 'AAOS_ERR_MEMORY_NOT_FOUND' }));
    // replacing a missing id fails and writes nothing
    await expect(remember(mem, A, 'orphan', 'fact', big, old)).rejects.toMatchObject({
      code: 'AAOS_ERR_MEMORY_NOT_FOUND',
    });
    expect(mem.count(A)).toBe(1);
    // at the cap, replacing does not evict anything
    const { evicted } = await remember(mem, A, 'the API lives at v3.example.com', 'fact', { maxRecords: 1 }, fresh);
    expect(evicted).toEqual([]);
    expect(mem.list(A).map((m) => m.content)).toEqual(['the API lives at v3.example.com']);
    // the matrix follows: the replaced text is never returned
    const found = await ask(mem, A, 'API v2.example.com');
    expect(found.results.map((r) => r.content)).toEqual(['the API lives at v3.example.com']);
  });

  it('re-embeds records from another model and dimension at query time, losing none', async () => {
    const memA = new MemoryStore(store, new HashedNgramEmbedder({ dims: 256 }));
    const ids = [];
    for (const text of ['cats like warm windowsills', 'the invoice is due in march', 'rust compiles to native code']) {
      ids.push((await remember(memA, A, text)).id);
    }
    await store.close();
    store = openStore(dir);
    const embedderB = new HashedNgramEmbedder({ dims: 512 });
    let calls = 0;
    const counting: Embedder = {
      model: embedderB.model,
      dims: embedderB.dims,
      embed: (texts) => {
        calls++;
        return embedderB.embed(texts);
      },
    };
    const memB = new MemoryStore(store, counting);
    const { results, skipped } = await ask(memB, A, 'when is the invoice due', { limit: 3 });
    expect(skipped).toEqual([]);
    expect(results).toHaveLength(3);
    expect(results[0]?.content).toBe('the invoice is due in march');
    expect(results.every((r) => r.embedding_model === embedderB.model && r.dims === 512)).toBe(true);
    // persisted: a fresh store over the same env needs no re-embedding
    const callsAfterFirst = calls;
    const memB2 = new MemoryStore(store, counting);
    await ask(memB2, A, 'cats', { limit: 3 });
    expect(calls - callsAfterFirst).toBe(1); // just the query itself
    expect(new Set(memB2.list(A).map((m) => m.id))).toEqual(new Set(ids));
  });

  it('reports records it cannot re-embed or read instead of dropping them', async () => {
    const memA = new MemoryStore(store, new HashedNgramEmbedder({ dims: 64 }));
    const { id: stale } = await remember(memA, A, 'from the old model');
    store.transaction(() =>
      store.db('memory').putSync(agentKey(A, 'future-1'), { v: 2, id: 'future-1', hologram: true }),
    );
    const good = new HashedNgramEmbedder();
    const failing: Embedder = {
      model: good.model,
      dims: good.dims,
      embed: async (texts) => {
        if (texts.includes('from the old model')) throw new Error('endpoint down');
        return good.embed(texts);
      },
    };
    const mem = new MemoryStore(store, failing);
    await remember(mem, A, 'a fresh memory');
    const { results, skipped } = await ask(mem, A, 'memory');
    expect(results.map((r) => r.content)).toEqual(['a fresh memory']);
    expect(skipped).toEqual(
      expect.arrayContaining([
        { id: 'future-1', reason: expect.stringMatching(/unsupported schema version 2/) },
        { id: stale, reason: expect.stringMatching(/re-embedding with hashed-ngram-v1 failed: endpoint down/) },
      ]),
    );
    expect(skipped).toHaveLength(2);
    expect(issues).toEqual([expect.objectContaining({ db: 'memory', v: 2 })]);
    expect(mem.count(A)).toBe(3);
  });

  it('rejects a query vector of the wrong size and deletes by id', async () => {
    const mem = new MemoryStore(store, new HashedNgramEmbedder());
    await expect(mem.query(A, new Float32Array(3))).rejects.toMatchObject({ code: 'AAOS_ERR_EMBEDDING_FAILED' });
    const { id } = await remember(mem, A, 'temporary');
    mem.delete(A, id);
    expect(mem.count(A)).toBe(0);
    expect((await ask(mem, A, 'temporary')).results).toEqual([]);
    expect(() => mem.delete(A, id)).toThrow(expect.objectContaining({ code: 'AAOS_ERR_MEMORY_NOT_FOUND' }));
  });

  it('keeps the matrix in sync over many writes and deletes (swap-remove)', async () => {
    const mem = new MemoryStore(store, new HashedNgramEmbedder());
    const embedder = mem.embedder;
    const ids: string[] = [];
    const texts = Array.from({ length: 150 }, (_, i) => `note number ${i} about topic${i % 7} and item${i}`);
    const vectors = await embedder.embed(texts);
    store.transaction(() => {
      for (const [i, content] of texts.entries())
        ids.push(mem.store(A, { content, category: 'observation', embedding: vectors[i]! }, big).id);
    });
    for (let i = 0; i < 150; i += 3) mem.delete(A, ids[i]!);
    const [q] = await embedder.embed(['item100']);
    const top = await mem.query(A, q!, { limit: 1 });
    expect(top.results[0]?.content).toBe(texts[100]);
    const [gone] = await embedder.embed(['item99']);
    expect((await mem.query(A, gone!, { limit: 20 })).results.map((r) => r.content)).not.toContain(texts[99]);
    // a reload from LMDB gives the same answer
    mem.unload(A);
    expect((await mem.query(A, q!, { limit: 1 })).results[0]?.content).toBe(texts[100]);
    expect(mem.count(A)).toBe(100);
  });

  it('a cold start loads the index from its entries alone, equal to a rebuild from the records', async () => {
    const mem = new MemoryStore(store, new HashedNgramEmbedder());
    const texts = Array.from({ length: 300 }, (_, i) => `entry ${i} about topic${i % 11} and thing${i % 5}`);
    const vectors = await mem.embedder.embed(texts);
    const cats = ['fact', 'observation', 'decision', 'preference'] as const;
    const ids: string[] = [];
    store.transaction(() => {
      for (const [i, content] of texts.entries())
        ids.push(mem.store(A, { content, category: cats[i % 4]!, embedding: vectors[i]! }, big).id);
    });
    for (let i = 0; i < 300; i += 4) mem.delete(A, ids[i]!);
    const queries = ['topic3 thing2', 'entry 17', 'topic10', 'thing4 about'];
    const expected = [];
    for (const q of queries) expected.push(ranking((await ask(mem, A, q, { limit: 5 })).results));
    mem.unload(A);
    const entries = () => store.read('count', () => store.db('memory_index').getKeysCount());
    expect(entries()).toBe(225);
    // without entries (records from before they existed): the records are read and the entries rewritten
    store.transaction(() => {
      for (const key of [...store.db('memory_index').getKeys()]) store.db('memory_index').removeSync(key);
    });
    const slow = new MemoryStore(store, new HashedNgramEmbedder());
    for (const [i, q] of queries.entries())
      expect(ranking((await ask(slow, A, q, { limit: 5 })).results)).toEqual(expected[i]);
    expect(entries()).toBe(225);
    slow.unload(A);
    // the entries alone: with every record's embedding zeroed, a cold start still ranks the same
    store.transaction(() => {
      const db = store.db('memory');
      for (const { key, value } of [...db.getRange()]) {
        const rec = value as { embedding: Uint8Array };
        db.putSync(key, { ...rec, embedding: new Uint8Array(rec.embedding.byteLength) });
      }
    });
    const fast = new MemoryStore(store, new HashedNgramEmbedder());
    for (const [i, q] of queries.entries())
      expect(ranking((await ask(fast, A, q, { limit: 5 })).results)).toEqual(expected[i]);
    // a query's touch reaches the entry with the next write, so LRU survives a fast reload
    const hit = (await ask(fast, A, 'entry 17', { limit: 1 })).results[0]!;
    fast.unload(A);
    const entry = store.read('get', () => store.db('memory_index').get(agentKey(A, hit.id)));
    expect(decodeIndexEntry(entry, { buffer: new ArrayBuffer(8) })).toMatchObject({
      lastUsedMs: Date.parse(hit.last_used_at),
    });
    const again = new MemoryStore(store, new HashedNgramEmbedder(), { now: () => Date.parse(hit.last_used_at) + 1 });
    const { evicted } = await remember(again, A, 'one more', 'fact', { maxRecords: 225 });
    expect(evicted).toHaveLength(1);
    expect(evicted[0]).not.toBe(hit.id);
  });

  it('never serves a damaged index entry: it reports it and rebuilds from the records', async () => {
    const mem = new MemoryStore(store, new HashedNgramEmbedder());
    const { id } = await remember(mem, A, 'the backup runs at midnight');
    await remember(mem, A, 'the printer is on the second floor');
    mem.unload(A);
    const key = agentKey(A, id);
    const entry = store.read('get', () => store.db('memory_index').get(key)) as Uint8Array;
    // a dimension index past the end, and then a truncated entry
    for (const damaged of [
      Uint8Array.from([...entry.subarray(0, entry.byteLength - 2), 0xff, 0xff]),
      entry.subarray(0, 20),
    ]) {
      store.transaction(() => store.db('memory_index').putSync(key, damaged));
      issues = [];
      const fresh = new MemoryStore(store, new HashedNgramEmbedder());
      const { results } = await ask(fresh, A, 'when does the backup run', { limit: 1 });
      expect(results.map((r) => r.id)).toEqual([id]);
      expect(issues).toEqual([expect.objectContaining({ db: 'memory_index', key })]);
      // rewritten: the next cold start is the fast one and reports nothing
      issues = [];
      await ask(new MemoryStore(store, new HashedNgramEmbedder()), A, 'printer');
      expect(issues).toEqual([]);
    }
  });

  it('refuses a store past AAOS_MEMORY_MAX_RECORDS_PER_AGENT with a clear error, losing nothing', async () => {
    const mem = new MemoryStore(store, new HashedNgramEmbedder(), { maxRecordsPerAgent: 3 });
    for (const t of ['one', 'two', 'three']) await remember(mem, A, t);
    const err = await remember(mem, A, 'four').catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'AAOS_ERR_MEMORY_LIMIT',
      message: expect.stringMatching(
        /agent-a holds 3 memories.*AAOS_MEMORY_MAX_RECORDS_PER_AGENT=3.*episodic_max_records \(10000\)/,
      ),
      details: { agent_id: A, count: 3, max: 3, episodic_max_records: 10_000 },
    });
    expect(mem.count(A)).toBe(3);
    // a manifest cap at or under the ceiling evicts as before; replacing needs no room
    expect((await remember(mem, A, 'four', 'fact', { maxRecords: 3 })).evicted).toHaveLength(1);
    const [first] = mem.list(A);
    await remember(mem, A, 'five', 'fact', big, first!.id);
    expect(mem.count(A)).toBe(3);
    // another agent has its own allowance
    await remember(mem, B, 'b one');
    expect(mem.count(B)).toBe(1);
  });

  it('keeps a memory whose text embeds to all zeros, never returns it, and reloads it', async () => {
    const mem = new MemoryStore(store, new HashedNgramEmbedder());
    const { id: blank } = await remember(mem, A, '?!… —');
    await remember(mem, A, 'the meeting moved to tuesday');
    const hits = async (m: MemoryStore, text: string) =>
      (await ask(m, A, text, { limit: 20 })).results.map((r) => r.id);
    expect(await hits(mem, 'meeting')).not.toContain(blank);
    // an all-zero query matches nothing, rather than everything at score 0
    expect(await hits(mem, '?!')).toEqual([]);
    mem.unload(A);
    const cold = new MemoryStore(store, new HashedNgramEmbedder());
    expect(await hits(cold, 'meeting')).not.toContain(blank);
    expect(cold.count(A)).toBe(2);
    cold.delete(A, blank);
    expect(cold.count(A)).toBe(1);
  });
});
