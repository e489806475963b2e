import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'vitest';
import { HashedNgramEmbedder } from '../../src/memory/hashed-ngram-embedder.js';
import { MemoryStore } from '../../src/memory/memory-store.js';
import { openStore } from '../../src/store/lmdb-env.js';
it('bench', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mb-'));
  const store = openStore(dir);
  const e = new HashedNgramEmbedder();
  const mem = new MemoryStore(store, e);
  const N = 100_000;
  let t = performance.now();
  const vec = await e.embed(['seed text']);
  store.transaction(() => {
    for (let i = 0; i < N; i++) {
      const v = new Float32Array(512);
      for (let j = 0; j < 8; j++) v[(i * 7 + j * 13) % 512] = Math.sin(i + j);
      mem.store('a', { content: `memory ${i}`, category: 'fact', embedding: v }, { maxRecords: 1e9 });
    }
  });
  console.log('BENCH insert', performance.now() - t);
  mem.unload('a');
  t = performance.now();
  await mem.query('a', vec[0]!, { limit: 5 });
  console.log('BENCH load+query', performance.now() - t);
  for (let k = 0; k < 3; k++) {
    t = performance.now();
    await mem.query('a', vec[0]!, { limit: 20 });
    console.log('BENCH query', performance.now() - t);
  }
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}, 300_000);
