// memory_query: episodic memory of ONE agent holding R records (MemoryStore over the LMDB
// store, hashed-ngram embedder, as the runtime wires them), then p50 of query latency.
//
//   records          R (100k full; 20k quick — inserting 100k takes too long for quick mode)
//   p50_ms / p99_ms  MemoryStore.query(agent, embed(query text), {limit: 5}) after the index
//                    is loaded; the query text is embedded outside the timing (embed_ms_p50
//                    reports that separately)
//   load_ms          first query after a cold start: loads the agent's index from LMDB
//   cpu_ms_p50, load_cpu_ms   the same as this process's CPU time (user + system): on a shared
//                    box wall time includes the time the thread waited for a core, CPU time not
//   insert_per_s     MemoryStore.store() calls, batched 1000 per outer transaction
//                    (store() joins the outer transaction)
//   index_mb         resident memory of the loaded index: settled RSS after the cold load − before
//   index_array_mb   the index's own typed arrays (MemoryStore.indexBytes; ids and the id map not
//                    counted), where the build has it
//   sizes[]          the same per size; the full run measures 100k and then 1M records
//                    (`--records 100000,1000000` sets them)
// Texts are synthetic sentences from a small vocabulary, so similarities are realistic-ish.

import { runSuite, importDist } from '../lib/suite.mjs';
import { nowNs, msSince, percentiles, spread, sig } from '../lib/stats.mjs';
import { settledRssMb, tempDir } from '../lib/aaos.mjs';

const WORDS = (
  'agent worker thread supervisor capability token router envelope tool memory query record store index vector ' +
  'model budget scheduler spawn child parent message audit event session history context summary file network fetch ' +
  'report research notes writer publisher inbox workspace approval skill manifest lifecycle persistent park reactivate'
).split(' ');

function sentence(i) {
  let x = (i * 2654435761) >>> 0;
  const out = [];
  for (let k = 0; k < 12; k++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out.push(WORDS[x % WORDS.length]);
  }
  return `${out.join(' ')} #${i}`;
}

await runSuite('memory_query', async ({ quick, flags, log }) => {
  // sizes measured in turn on one growing store; the first is the headline (`memory_query.*`),
  // every size is in `memory_query.sizes` (the full run adds 1M records of the same agent)
  const cfg = quick
    ? { sizes: [20_000], queries: 50, reps: 2 }
    : { sizes: [100_000, 1_000_000], queries: 200, reps: 3 };
  if (typeof flags.records === 'string') cfg.sizes = flags.records.split(',').map(Number);
  log(`config ${JSON.stringify(cfg)}`);
  const { MemoryStore } = await importDist('src/memory/memory-store.js');
  const { HashedNgramEmbedder } = await importDist('src/memory/hashed-ngram-embedder.js');
  const { openStore } = await importDist('src/store/lmdb-env.js');
  const tmp = tempDir('memory');
  const embedder = new HashedNgramEmbedder();
  const agent = 'bench-agent-0001';
  const store = openStore(tmp.dir);
  const categories = ['fact', 'observation', 'decision', 'preference'];
  const perSize = [];
  const maxRecords = Math.max(...cfg.sizes) + 1;
  try {
    let inserted = 0;
    for (const size of cfg.sizes) {
      let mem = new MemoryStore(store, embedder);
      const t0 = nowNs();
      const batch = 1000;
      for (let i = inserted; i < size; i += batch) {
        const texts = [];
        for (let k = i; k < Math.min(size, i + batch); k++) texts.push(sentence(k));
        const vectors = await embedder.embed(texts);
        store.transaction(() => {
          for (const [k, content] of texts.entries())
            mem.store(agent, { content, category: categories[(i + k) % 4], embedding: vectors[k] }, { maxRecords });
        });
        if ((i + batch) % 100_000 === 0) log(`inserted ${i + batch}`);
      }
      const insertPerS = ((size - inserted) * 1000) / msSince(t0);
      inserted = size;
      mem = null;
      log(`${size} records (inserted at ${insertPerS.toFixed(0)}/s)`);
      const reps = [];
      for (let r = 0; r < cfg.reps; r++) {
        // cold start: a new MemoryStore loads the index from LMDB on first use; its resident
        // memory is the settled RSS after that load minus before it
        const rssBefore = await settledRssMb(50);
        mem = new MemoryStore(store, embedder);
        const q0 = embedder.embedOne(sentence(1_000_000 + r));
        const tl = nowNs();
        const cl = process.cpuUsage();
        await mem.query(agent, q0, { limit: 5 });
        const loadMs = msSince(tl);
        const loadCpu = process.cpuUsage(cl);
        const indexMb = (await settledRssMb(50)) - rssBefore;
        const indexArrayMb = typeof mem.indexBytes === 'function' ? mem.indexBytes(agent) / 2 ** 20 : undefined;
        const lat = [];
        const cpu = [];
        const emb = [];
        for (let q = 0; q < cfg.queries; q++) {
          const te = nowNs();
          const v = embedder.embedOne(sentence(2_000_000 + q * 7 + r));
          emb.push(msSince(te));
          const tq = nowNs();
          const cq = process.cpuUsage();
          const res = await mem.query(agent, v, { limit: 5 });
          lat.push(msSince(tq));
          const used = process.cpuUsage(cq);
          cpu.push((used.user + used.system) / 1000);
          if (res.results.length !== 5) throw new Error(`query returned ${res.results.length} hits`);
        }
        mem = null;
        const p = percentiles(lat, [50, 99]);
        const rep = {
          p50_ms: p.p50,
          p99_ms: p.p99,
          cpu_ms_p50: percentiles(cpu, [50]).p50,
          load_ms: loadMs,
          load_cpu_ms: (loadCpu.user + loadCpu.system) / 1000,
          index_mb: indexMb,
          ...(indexArrayMb !== undefined ? { index_array_mb: indexArrayMb } : {}),
          embed_ms_p50: percentiles(emb, [50]).p50,
        };
        log(
          `${size}: rep ${r + 1}/${cfg.reps}: ${Object.entries(rep)
            .map(([k, v]) => `${k}=${sig(v, 3)}`)
            .join(' ')}`,
        );
        reps.push(rep);
      }
      const row = { records: size, insert_per_s: sig(insertPerS) };
      const spreads = {};
      for (const key of Object.keys(reps[0])) {
        const s = spread(reps.map((x) => x[key]));
        row[key] = sig(s.median);
        spreads[key] = { median: sig(s.median), min: sig(s.min), max: sig(s.max), n: s.n };
      }
      perSize.push({ row, spreads });
    }
  } finally {
    await store.close();
    tmp.cleanup();
  }
  const head = perSize[0];
  const spread_ = {};
  for (const [k, v] of Object.entries(head.spreads)) spread_[`memory_query.${k}`] = v;
  return {
    results: { memory_query: { ...head.row, sizes: perSize.map((x) => x.row) } },
    spread: spread_,
    details: { memory_query: { config: cfg, embedder: `${embedder.model} (${embedder.dims} dims)`, limit: 5 } },
    notes: quick
      ? [
          `quick mode stores ${cfg.sizes[0]} records, not 100k (inserting 100k takes too long for quick mode); the full run uses 100k and 1M`,
        ]
      : [],
  };
});
