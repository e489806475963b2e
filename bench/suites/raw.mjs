// Raw limits of Node worker threads on this machine, measured in the same run as the
// runtime suites so that runtime figures can be reported as ratios of them.
//
//   worker_spawn_ms_p50   new Worker(tiny ESM) → first message, sequential spawns
//   worker_spawns_per_s   N / makespan of those sequential spawns
//   port_rtt_us_p50/p99   worker → main → worker, ~1 KB JSON-RPC envelope as a string
//                         (sender stringifies, receiver parses; main echoes the string)
//   relay_rtt_us_p50      worker A → main → worker B → main → A; main parses each
//                         envelope (as a router must, to read it) and forwards the original string
//   port_flood_msgs_per_s main → worker one way, M envelope strings, worker parses each;
//                         M / time until the worker has parsed all of them (no backpressure)
//
// Each measurement is repeated; the headline is the median of per-repetition values,
// with min–max spread.

import { Worker } from 'node:worker_threads';
import { runSuite } from '../lib/suite.mjs';
import { makeEnvelope, ENVELOPE_BYTES } from '../lib/payloads.mjs';
import { nowNs, msSince, percentiles, spread, repeat, sig } from '../lib/stats.mjs';

const TINY = new URL('../workers/tiny.mjs', import.meta.url);
const PORT = new URL('../workers/port.mjs', import.meta.url);

function once(worker, pred = () => true) {
  return new Promise((resolve, reject) => {
    const onMsg = (m) => {
      if (!pred(m)) return;
      cleanup();
      if (m && typeof m === 'object' && 'error' in m) reject(new Error(m.error));
      else resolve(m);
    };
    const onErr = (e) => {
      cleanup();
      reject(e);
    };
    const cleanup = () => {
      worker.off('message', onMsg);
      worker.off('error', onErr);
    };
    worker.on('message', onMsg);
    worker.on('error', onErr);
  });
}

async function spawnOne() {
  const t0 = nowNs();
  const w = new Worker(TINY);
  await once(w);
  return { w, ms: msSince(t0) };
}

// Terminate one at a time: bulk termination right after spawning is the known abort trigger
// (reference doc, "Findings" 1) and would also measure teardown, which is not the point here.
async function terminateAll(workers) {
  for (const w of workers) await w.terminate();
}

async function spawnRep(n) {
  const t0 = nowNs();
  const workers = [];
  const lat = [];
  for (let i = 0; i < n; i++) {
    const { w, ms } = await spawnOne();
    workers.push(w);
    lat.push(ms);
  }
  const makespan = msSince(t0);
  await terminateAll(workers);
  return { p50: percentiles(lat, [50]).p50, perS: (n * 1000) / makespan };
}

async function startPortWorker() {
  const w = new Worker(PORT);
  return w;
}

async function rttRep(m, warm) {
  const w = await startPortWorker();
  // Main is the echo side (the supervisor's role): parse, then post the same string back.
  w.on('message', (msg) => {
    if (typeof msg === 'string') {
      JSON.parse(msg);
      w.postMessage(msg);
    }
  });
  const done = once(w, (msg) => typeof msg === 'object' && msg !== null && ('samples' in msg || 'error' in msg));
  w.postMessage({ cmd: 'client', m, warm });
  const { samples } = await done;
  await w.terminate();
  return percentiles(samples, [50, 99]);
}

async function relayRep(m, warm) {
  const a = await startPortWorker();
  const b = await startPortWorker();
  b.postMessage({ cmd: 'echo' });
  // Main routes: A's requests go to B, B's replies go back to A.
  a.on('message', (msg) => {
    if (typeof msg === 'string') {
      JSON.parse(msg);
      b.postMessage(msg);
    }
  });
  b.on('message', (msg) => {
    if (typeof msg === 'string') {
      JSON.parse(msg);
      a.postMessage(msg);
    }
  });
  const done = once(a, (msg) => typeof msg === 'object' && msg !== null && ('samples' in msg || 'error' in msg));
  a.postMessage({ cmd: 'client', m, warm });
  const { samples } = await done;
  await a.terminate();
  await b.terminate();
  return percentiles(samples, [50, 99]);
}

async function floodRep(m) {
  const w = await startPortWorker();
  const msgs = [];
  for (let i = 0; i < m; i++) msgs.push(makeEnvelope(i));
  const round = async () => {
    w.postMessage({ cmd: 'count', m });
    const done = once(w, (msg) => typeof msg === 'object' && msg !== null && 'done' in msg);
    const t0 = nowNs();
    // Serialization is part of the sender's cost, as it would be for a real sender.
    for (let i = 0; i < m; i++) w.postMessage(JSON.stringify(msgs[i]));
    await done;
    return (m * 1000) / msSince(t0);
  };
  await round(); // warm-up round
  const rate = await round();
  await w.terminate();
  return rate;
}

await runSuite('raw', async ({ quick, log }) => {
  const cfg = quick
    ? { reps: 3, spawnN: 10, rttM: 4000, rttWarm: 500, floodM: 50000 }
    : { reps: 5, spawnN: 30, rttM: 20000, rttWarm: 2000, floodM: 200000 };
  log(`config ${JSON.stringify(cfg)}, envelope ${ENVELOPE_BYTES} B`);

  // The first worker of a process pays a one-time cost (~36–39 ms); keep it out of the figures.
  const first = await spawnOne();
  await first.w.terminate();

  // Interleave the measurements per repetition so a slow period of the VM spreads over all.
  const reps = await repeat(cfg.reps, async (i) => {
    const s = await spawnRep(cfg.spawnN);
    const r = await rttRep(cfg.rttM, cfg.rttWarm);
    const rl = await relayRep(cfg.rttM, cfg.rttWarm);
    const f = await floodRep(cfg.floodM);
    const rep = {
      worker_spawn_ms_p50: s.p50,
      worker_spawns_per_s: s.perS,
      port_rtt_us_p50: r.p50,
      port_rtt_us_p99: r.p99,
      relay_rtt_us_p50: rl.p50,
      relay_rtt_us_p99: rl.p99,
      port_flood_msgs_per_s: f,
    };
    log(
      `rep ${i + 1}/${cfg.reps}: ${Object.entries(rep)
        .map(([k, v]) => `${k}=${sig(v, 3)}`)
        .join(' ')}`,
    );
    return rep;
  });

  const raw = {};
  const spreads = {};
  for (const key of Object.keys(reps[0])) {
    const s = spread(reps.map((r) => r[key]));
    raw[key] = sig(s.median);
    spreads[`raw.${key}`] = { median: sig(s.median), min: sig(s.min), max: sig(s.max), n: s.n };
  }
  return {
    results: { raw },
    spread: spreads,
    details: {
      raw: {
        config: cfg,
        envelope_bytes: ENVELOPE_BYTES,
        first_spawn_ms: sig(first.ms),
        method: {
          spawn: 'sequential new Worker(tiny ESM) → first message; first worker of the process excluded',
          rtt: 'worker is the caller; main parses and echoes the string; samples after warm-up',
          relay: 'A → main → B → main → A; main JSON.parses each envelope and forwards the original string',
          flood: 'main JSON.stringifies and posts M envelopes; worker parses all M; after one warm-up round',
        },
      },
    },
  };
});
