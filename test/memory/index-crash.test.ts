import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HashedNgramEmbedder } from '../../src/memory/hashed-ngram-embedder.js';
import { MemoryRecord, decodeEmbeddingInto } from '../../src/memory/memory-record.js';
import { MemoryStore } from '../../src/memory/memory-store.js';
import { agentRange } from '../../src/store/keys.js';
import { openStore } from '../../src/store/lmdb-env.js';

// The built runtime, as the daemon runs it: a real process writing the store, killed with SIGKILL.
const DIST = pathToFileURL(join(process.cwd(), 'dist/src/')).href;
const AGENT = 'agent-crash';

const CHILD = `
const { openStore } = await import('${DIST}store/lmdb-env.js');
const { MemoryStore } = await import('${DIST}memory/memory-store.js');
const { HashedNgramEmbedder } = await import('${DIST}memory/hashed-ngram-embedder.js');
const [dir, mode, start] = process.argv.slice(2);
const store = openStore(dir);
const embedder = new HashedNgramEmbedder();
const mem = new MemoryStore(store, embedder, { indexBatch: 50 });
const cats = ['fact', 'observation', 'decision', 'preference'];
if (mode === 'write') {
  for (let i = Number(start); ; i += 25) {
    const texts = Array.from({ length: 25 }, (_, k) => 'note ' + (i + k) + ' on topic' + ((i + k) % 13) + ' and part' + ((i + k) % 7));
    const vectors = await embedder.embed(texts);
    store.transaction(() => {
      texts.forEach((content, k) => mem.store('${AGENT}', { content, category: cats[(i + k) % 4], embedding: vectors[k] }, { maxRecords: 1e9 }));
    });
    process.stdout.write('committed ' + (i + 25) + '\\n');
  }
} else {
  process.stdout.write('loading\\n');
  const t0 = performance.now();
  await mem.query('${AGENT}', embedder.embedOne('topic3 part2'), { limit: 5 });
  process.stdout.write('loaded ' + (performance.now() - t0) + '\\n');
  await store.close();
}
`;

let dir: string;
let script: string;
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aaos-memory-crash-'));
  script = join(dir, 'child.mjs');
  writeFileSync(script, CHILD);
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the child and resolves once a stdout line satisfies `until` (or rejects if it exits first). */
function runUntil(args: string[], until: (line: string) => boolean): Promise<ChildProcess> {
  const child = spawn(process.execPath, [script, dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      out = lines.pop() ?? '';
      if (lines.some(until)) resolve(child);
    });
    child.on('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}) early: ${err}`)));
  });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.on('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Opens the store and checks the index against a brute-force cosine over the records themselves. */
async function expectIndexMatchesRecords(): Promise<number> {
  const store = openStore(dir);
  try {
    const embedder = new HashedNgramEmbedder();
    const records = store.read('read', () =>
      [...store.db('memory').getRange(agentRange(AGENT))].map(({ value }) => MemoryRecord.parse(value)),
    );
    const mem = new MemoryStore(store, embedder);
    for (const text of ['topic3 part2', 'note 41', 'topic12 part6 note', 'part0']) {
      const q = embedder.embedOne(text);
      const { results, skipped } = await mem.query(AGENT, q, { limit: 5 });
      expect(skipped).toEqual([]);
      const truth = records
        .map((r) => {
          const v = new Float32Array(r.dims);
          decodeEmbeddingInto(r.embedding, v, 0);
          let dot = 0;
          let n = 0;
          let qn = 0;
          for (let j = 0; j < v.length; j++) {
            dot += (v[j] as number) * (q[j] as number);
            n += (v[j] as number) ** 2;
            qn += (q[j] as number) ** 2;
          }
          return n === 0 ? 0 : Math.max(0, Math.min(1, dot / Math.sqrt(n * qn)));
        })
        .sort((a, b) => b - a)
        .slice(0, 5);
      // float32 accumulation against float64: equal to ~1e-6
      expect(results).toHaveLength(truth.length);
      for (const [i, r] of results.entries())
        expect(Math.abs(r.relevance_score - (truth[i] as number))).toBeLessThan(1e-5);
    }
    // a load leaves exactly one entry per record behind
    const entries = store.read('count', () => store.db('memory_index').getKeysCount(agentRange(AGENT)));
    expect(entries).toBe(records.length);
    return records.length;
  } finally {
    await store.close();
  }
}

describe('the memory index under kill -9', { timeout: 120_000 }, () => {
  it('a writer killed mid-transaction leaves records and index entries in step', async () => {
    let written = 0;
    for (let round = 0; round < 3; round++) {
      const child = await runUntil(['write', String(written + round * 100_000)], (l) => l.startsWith('committed'));
      await sleep(50 + round * 70);
      await killed(child);
      written = await expectIndexMatchesRecords();
      expect(written).toBeGreaterThan(0);
    }
  });

  it('a rebuild of the entries killed part-way is redone on the next start, never served half-done', async () => {
    const writer = await runUntil(['write', '0'], (l) => Number(l.split(' ')[1]) >= 1500);
    await killed(writer);
    const dropEntries = async (): Promise<void> => {
      // records from before the index entries existed: none, or part of them after a kill
      const store = openStore(dir);
      store.transaction(() => {
        const idb = store.db('memory_index');
        for (const key of [...idb.getKeys(agentRange(AGENT))]) idb.removeSync(key);
      });
      await store.close();
    };
    // how long a whole load takes here, so the kills below land at points across it (the
    // entries are rewritten at its end); every outcome must be a correct index
    await dropEntries();
    let whole = 0;
    await runUntil(['load'], (l) => {
      if (l.startsWith('loaded ')) whole = Number(l.slice(7));
      return whole > 0;
    });
    await expectIndexMatchesRecords();
    for (const share of [0.4, 0.5, 0.6, 0.7, 0.85]) {
      await dropEntries();
      const loader = await runUntil(['load'], (l) => l === 'loading');
      await sleep(whole * share);
      await killed(loader);
      await expectIndexMatchesRecords();
    }
  });
});
