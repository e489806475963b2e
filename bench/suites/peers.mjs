// The fan-out workload (lib/fanout-workload.mjs) on peer runtimes: the OpenAI Agents SDK
// for JS and LangGraph.js, from bench/node_modules (never the runtime's dependencies).
// Both run in this one process, interleaved per repetition so that a slow period of the
// VM is spread over both. Every run is verified (N×3 tool calls, N×4 + 2 model calls, all
// children answered, children overlapped when L > 0); a run that did not do the work fails
// the suite instead of reporting a flattering number.
//
// When bench/node_modules is missing (or one peer fails to load), the suite still reports
// the fan-out rows with null peer columns and a `peers_skipped_reason`.

import { readFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { runSuite, BENCH_DIR } from '../lib/suite.mjs';
import {
  fanoutConfig,
  applyFanoutFlags,
  latenciesFor,
  repsFor,
  idealMs,
  WorkloadCounters,
  verifyWorkload,
} from '../lib/fanout-workload.mjs';
import { nowNs, msSince, spread, sig } from '../lib/stats.mjs';
import * as openaiAgents from '../peers/openai-agents.mjs';
import * as langgraph from '../peers/langgraph.mjs';

const PEERS = [
  { key: 'openai_agents_ms', impl: openaiAgents },
  { key: 'langgraph_ms', impl: langgraph },
];

function pkgVersion(name) {
  try {
    return JSON.parse(readFileSync(path.join(BENCH_DIR, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

await runSuite('peers', async ({ quick, flags, log }) => {
  const cfg = fanoutConfig(quick);
  applyFanoutFlags(cfg, flags);
  log(`config ${JSON.stringify(cfg)}`);
  // Both SDKs hang one abort listener per concurrent child/tool on a shared AbortSignal;
  // Node's leak warning at 10 listeners is expected here and only clutters the output.
  EventEmitter.defaultMaxListeners = Math.max(EventEmitter.defaultMaxListeners, 10 * Math.max(...cfg.children) + 100);

  const loaded = [];
  const skipped = {};
  const versions = {};
  for (const peer of PEERS) {
    try {
      const t0 = nowNs();
      const lib = await peer.impl.load();
      loaded.push({ ...peer, lib, importMs: msSince(t0) });
      for (const p of lib.packages) versions[p] = pkgVersion(p);
      log(`${peer.impl.name}: loaded in ${msSince(t0).toFixed(0)} ms`);
    } catch (err) {
      const reason =
        err?.code === 'ERR_MODULE_NOT_FOUND'
          ? `not installed (run \`npm install --prefix bench\`): ${String(err.message).split('\n')[0]}`
          : `failed to load: ${String(err?.message ?? err).split('\n')[0]}`;
      skipped[peer.impl.name] = reason;
      log(`${peer.impl.name}: SKIPPED, ${reason}`);
    }
  }

  const grid = [];
  for (const n of cfg.children) for (const latencyMs of latenciesFor(cfg, n)) grid.push({ n, latencyMs });

  // Build every (peer, configuration) once; repetitions reuse the built agents/graphs.
  const cells = [];
  for (const g of grid) {
    for (const peer of loaded) {
      const counters = new WorkloadCounters();
      const run = peer.impl.build(peer.lib, { n: g.n, latencyMs: g.latencyMs, counters });
      cells.push({ ...g, peer, counters, run, samples: [], checks: null });
    }
  }

  const runCell = async (cell) => {
    cell.counters.reset();
    const t0 = nowNs();
    const answer = await cell.run();
    const ms = msSince(t0);
    const checks = verifyWorkload(cell.peer.impl.name, cell.counters, cell.n, cell.latencyMs);
    if (!answer.includes(`collected ${cell.n}`)) {
      throw new Error(
        `${cell.peer.impl.name} N=${cell.n} L=${cell.latencyMs}: unexpected final answer ${JSON.stringify(answer.slice(0, 120))}`,
      );
    }
    cell.checks = checks;
    return ms;
  };

  for (let w = 0; w < cfg.warmup; w++) for (const cell of cells) await runCell(cell);
  for (let r = 0; r < cfg.reps; r++) {
    for (const cell of cells) {
      if (r >= repsFor(cfg, cell.n)) continue;
      const ms = await runCell(cell);
      cell.samples.push(ms);
      log(
        `rep ${r + 1}/${repsFor(cfg, cell.n)} ${cell.peer.impl.name} N=${cell.n} L=${cell.latencyMs}: ${ms.toFixed(1)} ms (peak ${cell.checks.max_concurrent_child_model_calls} concurrent child model calls)`,
      );
    }
  }

  const fanout = grid.map(({ n, latencyMs }) => {
    const row = {
      children: n,
      model_latency_ms: latencyMs,
      ideal_ms: idealMs(latencyMs),
      openai_agents_ms: null,
      langgraph_ms: null,
      spread: {},
      checks: {},
    };
    for (const cell of cells.filter((c) => c.n === n && c.latencyMs === latencyMs)) {
      const s = spread(cell.samples);
      row[cell.peer.key] = sig(s.median);
      row.spread[cell.peer.key] = { median: sig(s.median), min: sig(s.min), max: sig(s.max), n: s.n };
      row.checks[cell.peer.impl.name] = cell.checks;
    }
    return row;
  });

  const skippedNames = Object.keys(skipped);
  const reason = skippedNames.length ? skippedNames.map((k) => `${k}: ${skipped[k]}`).join('; ') : null;
  const notes = [
    'peer figures: wall ms of one whole fan-out run (root + N children), median of reps; ideal_ms = (2 + 4) × L',
    'L = 0 means the fake model yields one event-loop turn (setImmediate) per call',
  ];
  if (reason) notes.push(`peers skipped: ${reason}`);
  return {
    results: { fanout, peers_skipped_reason: reason },
    details: {
      peers: {
        config: cfg,
        versions,
        import_ms: Object.fromEntries(loaded.map((p) => [p.impl.name, sig(p.importMs)])),
        skipped,
      },
    },
    notes,
  };
});
