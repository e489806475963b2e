// spawn: agents from manifest to ready for their first message, through the supervisor's own
// spawn path (manifest parse, capability issue, AgentSpawned audit, worker launch through the
// boot gate of `cores` workers at a time, init message answered). Default LLM agent module,
// bare manifest (scripted model, no capabilities), the manifest's default 64 MB heap limit.
//
//   p50_ms / p99_ms          sequential spawns (one at a time), spawn() call → resolved; comparable
//                            to raw.worker_spawn_ms_p50 (sequential new Worker → first message)
//   agents_per_s             burst: N spawns issued at once (N = 100), N / makespan
//   rss_mb_per_idle_agent    (RSS after the burst is ready + 300 ms + gc − RSS before) / N
//   stall_ms_max             worst supervisor event-loop stall during the burst (1 ms timer)
//   n<N>_*                   the same per burst size (10, 100 quick; 10, 100, 1000 full)
//   warm_*                   the same burst with a warm pool of N pre-started workers
//                            (warmWorkers = N, pool full before the burst; the pool refills
//                            in the background during and after the burst, as in production;
//                            a fresh Runtime per rep so its boots never overlap the cold runs)
// Runs on the Runtime (durable LMDB audit sink) like the other runtime suites.

import { runSuite } from '../lib/suite.mjs';
import { nowNs, msSince, percentiles, sig, mediansOf } from '../lib/stats.mjs';
import {
  loopLagProbe,
  manifestYaml,
  openRuntime,
  settledRssMb,
  stopAll,
  tempDir,
  waitWarm,
  writeScript,
} from '../lib/aaos.mjs';

async function burst(sup, yaml, n) {
  const before = await settledRssMb(100);
  const lag = loopLagProbe();
  const t0 = nowNs();
  const lat = [];
  const infos = await Promise.all(
    Array.from({ length: n }, async () => {
      const s = nowNs();
      const info = await sup.spawn(yaml);
      lat.push(msSince(s));
      return info;
    }),
  );
  const makespan = msSince(t0);
  const stall = lag.stop();
  const after = await settledRssMb(300);
  await stopAll(
    sup,
    infos.map((i) => i.id),
  );
  const p = percentiles(lat, [50, 99]);
  return {
    agents_per_s: (n * 1000) / makespan,
    makespan_ms: makespan,
    burst_p50_ms: p.p50,
    burst_p99_ms: p.p99,
    rss_mb_per_idle_agent: (after - before) / n,
    stall_ms_max: stall,
  };
}

async function sequential(sup, yaml, n) {
  const lat = [];
  const ids = [];
  for (let i = 0; i < n; i++) {
    const t0 = nowNs();
    const info = await sup.spawn(yaml);
    lat.push(msSince(t0));
    ids.push(info.id);
  }
  await stopAll(sup, ids);
  return percentiles(lat, [50, 99]);
}

await runSuite('spawn', async ({ quick, log }) => {
  // quick: 2 reps, and the warm pool (8–10 s to fill 100 workers) measured in the first only
  const cfg = quick
    ? { reps: 2, sizes: [10, 100], seqN: 10, headline: 100, warmN: 50, warmReps: 1 }
    : { reps: 5, sizes: [10, 100, 1000], seqN: 30, headline: 100, warmN: 100, warmReps: 5 };
  log(`config ${JSON.stringify(cfg)}`);
  const tmp = tempDir('spawn');
  const script = writeScript(tmp.dir, 'idle', { turns: [{ text: 'idle' }] });
  const yaml = manifestYaml({ name: 'idle', model: `scripted:${script}` });
  const maxAgents = Math.max(...cfg.sizes) + 10;
  const cold = await openRuntime({ dataDir: `${tmp.dir}/cold`, maxAgents });

  const reps = [];
  try {
    // the first worker of a process pays a one-time cost; keep it out (as raw does)
    await stopAll(cold.supervisor, [(await cold.supervisor.spawn(yaml)).id]);
    for (let r = 0; r < cfg.reps; r++) {
      const rep = {};
      const seq = await sequential(cold.supervisor, yaml, cfg.seqN);
      rep.p50_ms = seq.p50;
      rep.p99_ms = seq.p99;
      for (const n of cfg.sizes) {
        if (n >= 1000 && r >= 3) continue; // the 1000-agent burst: 3 reps are enough
        const b = await burst(cold.supervisor, yaml, n);
        for (const [k, v] of Object.entries(b)) rep[`n${n}_${k}`] = v;
        if (n === cfg.headline) {
          rep.agents_per_s = b.agents_per_s;
          rep.rss_mb_per_idle_agent = b.rss_mb_per_idle_agent;
          rep.stall_ms_max = b.stall_ms_max;
        }
      }
      if (r < cfg.warmReps) {
        // a fresh runtime per rep, so its pool's background boots never overlap the cold figures
        const warm = await openRuntime({ dataDir: `${tmp.dir}/warm${r}`, maxAgents, warmWorkers: cfg.warmN });
        let fill;
        let w;
        try {
          fill = await waitWarm(warm.supervisor, cfg.warmN);
          w = await burst(warm.supervisor, yaml, cfg.warmN);
        } finally {
          await warm.close();
        }
        rep.warm_pool_fill_ms = fill;
        rep.warm_agents_per_s = w.agents_per_s;
        rep.warm_p50_ms = w.burst_p50_ms;
        rep.warm_p99_ms = w.burst_p99_ms;
        rep.warm_stall_ms_max = w.stall_ms_max;
      }
      log(
        `rep ${r + 1}/${cfg.reps}: ${Object.entries(rep)
          .map(([k, v]) => `${k}=${sig(v, 3)}`)
          .join(' ')}`,
      );
      reps.push(rep);
    }
  } finally {
    await cold.close();
    tmp.cleanup();
  }

  const { results, spreads } = mediansOf(reps, 'spawn');
  return {
    results: { spawn: results },
    spread: spreads,
    details: {
      spawn: {
        config: {
          ...cfg,
          module: 'default LLM agent (dist/src/agent/llm-agent.js)',
          max_heap_mb: 64,
          spawn_concurrency: 'os.availableParallelism()',
        },
      },
    },
    notes: [
      'spawn.p50_ms is sequential (comparable to raw.worker_spawn_ms_p50); burst latencies include queueing behind the boot gate and are n<N>_burst_p50_ms',
    ],
  };
});
