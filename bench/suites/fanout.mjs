// fanout (aaos): the workload of lib/fanout-workload.mjs on the runtime itself. A root agent
// (default LLM agent module, scripted model) answers its first turn with ONE `spawn_agents`
// call carrying N children; each child (own worker, narrowed `tool: echo`) makes 3 `echo`
// calls, one per model turn, then answers `done task i`; the root's second turn reports
// how many answered. Every model call is the scripted provider with latency L (0 or 50 ms).
//
//   wall_ms        supervisor.run(root, …) → result, with a warm pool of N pre-started workers
//                  (Runtime warmWorkers = N; the pool is full before each rep)       ← headline
//   wall_ms_cold   the same without a warm pool (every child boots its worker)
//   warm_pool_saving_ms = wall_ms_cold − wall_ms
//   supervisor_cpu_ms_per_child   CPU time of the supervisor (main) thread during one warm
//                  run, from the thread's own scheduler statistics, divided by N
//
// Verified like the peers (verifyWorkload): model calls are counted by wrapping the model
// gateway's complete() (root vs child by parentId, in-flight child calls for the overlap
// check), tool calls and child answers from the audit log (ToolInvoked echo,
// AgentExecutionCompleted of children). Rows merge with the peers' rows by (children, L).

import { runSuite } from '../lib/suite.mjs';
import {
  fanoutConfig,
  applyFanoutFlags,
  latenciesFor,
  repsFor,
  idealMs,
  WorkloadCounters,
  verifyWorkload,
  childTask,
  childIndexOf,
  CHILD_TOOL_CALLS,
  ECHO_TOOL,
} from '../lib/fanout-workload.mjs';
import { nowNs, msSince, spread, sig } from '../lib/stats.mjs';
import { mainThreadCpuNs } from '../lib/thread-cpu.mjs';
import { startProfiler } from '../lib/profile.mjs';
import { startPerfSampler } from '../lib/perf-sampler.mjs';
import { manifestYaml, openRuntime, tempDir, waitWarm, writeScript } from '../lib/aaos.mjs';

function scripts(dir, n, latencyMs) {
  const childTurns = [];
  for (let k = 1; k <= CHILD_TOOL_CALLS; k++)
    childTurns.push({ tool_calls: [{ name: ECHO_TOOL, input: { message: `{message} step ${k}` } }] });
  childTurns.push({ text: 'done {message}' });
  const child = writeScript(dir, `child-l${latencyMs}`, {
    turns: childTurns,
    latency_ms: latencyMs,
    cursor: 'per_agent',
  });
  const childYaml = manifestYaml({
    name: 'child',
    model: `scripted:${child}`,
    capabilities: [`tool: ${ECHO_TOOL}`],
    systemPrompt: 'fan-out child',
  });
  const children = Array.from({ length: n }, (_, i) => ({ manifest: childYaml, message: childTask(i) }));
  const root = writeScript(dir, `root-n${n}-l${latencyMs}`, {
    turns: [
      { tool_calls: [{ name: 'spawn_agents', input: { children } }] },
      { text: 'collected {last_tool_result:count} child answers, {last_tool_result:failed} failed' },
    ],
    latency_ms: latencyMs,
    cursor: 'per_run',
  });
  return manifestYaml({
    name: 'root',
    model: `scripted:${root}`,
    // the children's script is a file their manifest names: the root must be able to read it
    capabilities: ['tool: spawn_agents', `tool: ${ECHO_TOOL}`, 'spawn_child: [*]', `file_read: ${dir}/*`],
    systemPrompt: 'fan-out root',
  });
}

/** Instruments one runtime (its parts): counts model calls through the gateway and tool calls/answers through the audit log. */
function instrument(parts, counters) {
  const gateway = parts.gateway;
  const complete = gateway.complete.bind(gateway);
  gateway.complete = async (agent, spec, request, ctx) => {
    if (!agent.parentId) {
      counters.rootModelCalls++;
      return complete(agent, spec, request, ctx);
    }
    counters.childModelCalls++;
    counters.childInFlight++;
    if (counters.childInFlight > counters.maxChildInFlight) counters.maxChildInFlight = counters.childInFlight;
    try {
      return await complete(agent, spec, request, ctx);
    } finally {
      counters.childInFlight--;
    }
  };
  const state = { lastChildDone: 0n, events: 0, byType: {} };
  parts.audit.subscribe((e) => {
    state.events++;
    state.byType[e.type] = (state.byType[e.type] ?? 0) + 1;
    if (e.type === 'ToolInvoked' && e.tool === ECHO_TOOL) counters.toolCalls++;
    else if (e.type === 'AgentExecutionCompleted' && e.parent_id && e.stop_reason === 'complete') {
      const i = childIndexOf(e.response_preview);
      if (i >= 0) counters.childrenFinished.add(i);
      state.lastChildDone = nowNs();
    }
  });
  return state;
}

await runSuite('fanout', async ({ quick, flags, log }) => {
  const cfg = applyFanoutFlags(fanoutConfig(quick), flags);
  const noCold = flags['no-cold'] === true;
  // --profile <file>: a CPU profile of the supervisor thread during the measured warm runs only
  const profiler = typeof flags.profile === 'string' ? await startProfiler() : null;
  // --perf <base>: on-CPU samples of the supervisor thread (Linux perf) during the measured warm runs
  // --perf-all: every thread of the process (the agents' workers too), not the supervisor's only
  const sampler =
    typeof flags.perf === 'string' ? startPerfSampler(flags.perf, { all: flags['perf-all'] === true }) : null;
  if (typeof flags.perf === 'string' && !sampler) log('--perf: perf is not available; no samples');
  // cold runs (no warm pool) pay N worker boots each; fewer of them
  // (quick: no cold N=100 run, and at N=100 no warm-up, 2 reps at L=50 and 1 at L=0: every
  // N=100 rep waits ~9 s for the pool to refill, and quick mode must stay under 2 minutes;
  // the full run has all of them)
  const coldReps = (n) => (quick ? cfg.reps : n >= cfg.largeFrom ? 1 : 3);
  const coldLatencies = (n) => (noCold || (quick && n >= 100) || n >= cfg.largeFrom ? [] : latenciesFor(cfg, n));
  const warmReps = (n, latencyMs) =>
    flags.reps ? cfg.reps : quick && n >= 100 && n < cfg.largeFrom ? (latencyMs === 0 ? 1 : 2) : repsFor(cfg, n);
  const warmups = (n) => (quick && n >= 100 ? 0 : cfg.warmup);
  log(`config ${JSON.stringify(cfg)}`);
  const tmp = tempDir('fanout');
  const rows = [];
  const perMode = {};
  try {
    for (const n of cfg.children) {
      for (const mode of ['warm', 'cold']) {
        if (mode === 'cold' && coldLatencies(n).length === 0) continue;
        const env = {
          AAOS_SPAWN_AGENTS_BATCH_CAP: String(n),
          AAOS_MAX_CONCURRENT_INFERENCE_SCRIPTED: String(Math.max(256, 2 * n)),
        };
        // limits raised for large N: the bench measures the runtime, not its default caps
        const runtime = await openRuntime({
          dataDir: `${tmp.dir}/${mode}-${n}`,
          env,
          maxAgents: n + 10,
          ...(mode === 'warm' ? { warmWorkers: n } : {}),
        });
        // the parts the bench drives and instruments (the Runtime keeps them private)
        const parts = runtime.internalsForTests();
        const counters = new WorkloadCounters();
        const probe = instrument(parts, counters);
        try {
          const lats = mode === 'warm' ? latenciesFor(cfg, n) : coldLatencies(n);
          for (const latencyMs of lats) {
            const root = await parts.supervisor.spawn(scripts(tmp.dir, n, latencyMs));
            const reps = mode === 'warm' ? warmReps(n, latencyMs) : coldReps(n);
            const samples = [];
            const tails = [];
            const events = [];
            const supCpu = [];
            const procCpu = [];
            let checks;
            let byType;
            for (let r = -warmups(n); r < reps; r++) {
              if (mode === 'warm') await waitWarm(parts.supervisor, n, { timeoutMs: Math.max(60_000, n * 300) }); // ~10 boots/s on a busy box
              counters.reset();
              probe.events = 0;
              probe.byType = {};
              let cpu0 = null;
              let cpu1 = null;
              let proc0 = null;
              let proc1 = null;
              let t0 = 0n;
              let ms = 0;
              // the clocks run inside: a profiler's own start and stop are not measured
              const go = async () => {
                cpu0 = mainThreadCpuNs();
                proc0 = process.cpuUsage();
                t0 = nowNs();
                const result = await parts.supervisor.run(root.id, 'go');
                ms = msSince(t0);
                cpu1 = mainThreadCpuNs();
                proc1 = process.cpuUsage(proc0);
                return result;
              };
              const measured = mode === 'warm' && r >= 0;
              const out =
                profiler && measured
                  ? await profiler.around(go)
                  : sampler && measured
                    ? await sampler.around(go)
                    : await go();
              if (out.stop_reason !== 'complete' || !out.response.includes(`collected ${n} child answers, 0 failed`)) {
                throw new Error(
                  `aaos ${mode} N=${n} L=${latencyMs}: root ended ${out.stop_reason}: ${JSON.stringify(out.response).slice(0, 200)} ${JSON.stringify(out.error)}`,
                );
              }
              // cold children boot `cores` at a time: on a busy box fewer than N/2 overlap, yet never one at a time
              checks = verifyWorkload(
                `aaos (${mode})`,
                counters,
                n,
                latencyMs,
                mode === 'cold' ? { minOverlap: 2 } : {},
              );
              if (r < 0) continue; // warm-up
              samples.push(ms);
              tails.push(ms - Number(probe.lastChildDone - t0) / 1e6);
              events.push(probe.events);
              byType = { ...probe.byType };
              if (cpu0 !== null && cpu1 !== null) supCpu.push((cpu1 - cpu0) / 1e6 / n);
              if (proc1 !== null) procCpu.push((proc1.user + proc1.system) / 1e3 / n);
              log(
                `rep ${r + 1}/${reps} ${mode} N=${n} L=${latencyMs}: ${ms.toFixed(1)} ms (after the last child answered: ${tails.at(-1).toFixed(1)} ms; supervisor CPU ${supCpu.length ? supCpu.at(-1).toFixed(2) : '?'} ms/child, process ${procCpu.length ? procCpu.at(-1).toFixed(2) : '?'} ms/child; peak ${checks.max_concurrent_child_model_calls} concurrent child model calls)`,
              );
            }
            perMode[`${mode}/${n}/${latencyMs}`] = { samples, tails, events, byType, supCpu, procCpu, checks };
            await parts.supervisor.stop(root.id, 'bench done');
          }
        } finally {
          await runtime.close();
        }
      }
    }
  } finally {
    tmp.cleanup();
    if (profiler) await profiler.save(flags.profile);
  }

  for (const n of cfg.children) {
    for (const latencyMs of latenciesFor(cfg, n)) {
      const warm = perMode[`warm/${n}/${latencyMs}`];
      const cold = perMode[`cold/${n}/${latencyMs}`];
      const sw = spread(warm.samples);
      const sc = cold ? spread(cold.samples) : null;
      const st = spread(warm.tails);
      const sp = warm.supCpu.length ? spread(warm.supCpu) : null;
      const pp = warm.procCpu.length ? spread(warm.procCpu) : null;
      const row = {
        children: n,
        model_latency_ms: latencyMs,
        ideal_ms: idealMs(latencyMs),
        wall_ms: sig(sw.median),
        wall_ms_cold: sc ? sig(sc.median) : null,
        warm_pool_saving_ms: sc ? sig(sc.median - sw.median) : null,
        tail_after_last_child_ms: sig(st.median),
        audit_events_per_run: spread(warm.events).median,
        audit_events_by_type: warm.byType,
        supervisor_cpu_ms_per_child: sp ? sig(sp.median, 3) : null,
        process_cpu_ms_per_child: pp ? sig(pp.median, 3) : null,
        spread: {
          ...(sp
            ? {
                supervisor_cpu_ms_per_child: {
                  median: sig(sp.median, 3),
                  min: sig(sp.min, 3),
                  max: sig(sp.max, 3),
                  n: sp.n,
                },
              }
            : {}),
          wall_ms: { median: sig(sw.median), min: sig(sw.min), max: sig(sw.max), n: sw.n },
          ...(sc ? { wall_ms_cold: { median: sig(sc.median), min: sig(sc.min), max: sig(sc.max), n: sc.n } } : {}),
        },
        checks: { aaos: warm.checks, ...(cold ? { aaos_cold: cold.checks } : {}) },
      };
      rows.push(row);
    }
  }
  return {
    results: { fanout: rows },
    details: {
      fanout: {
        config: {
          ...cfg,
          cold_reps: 'quick: 2 at N=10, none at N≥100; full: 3 below N=500, none from N=500',
          warm_reps_quick_n100: 'L=50: 2, L=0: 1, no warm-up',
          large_n: 'N≥500: L=50 only, warm pool = N, repsLarge reps',
          runtime: 'Runtime.open (durable LMDB audit sink)',
        },
        method:
          'root (LLM agent) → spawn_agents with N children (AAOS_SPAWN_AGENTS_BATCH_CAP=N) → each child 3 echo calls + answer → root answers; warm pool = N',
      },
    },
    notes: [
      'aaos wall_ms uses a warm pool of N pre-started workers (full before each rep); wall_ms_cold has none; warm_pool_saving_ms is their difference',
      "tail_after_last_child_ms: time from the last child answering to the root's result (child stops/terminations + the root's final model turn of L ms)",
      'supervisor_cpu_ms_per_child: supervisor-thread CPU (/proc/self/task/<pid>/schedstat) during one warm run / N',
      'process_cpu_ms_per_child: CPU of the whole process (supervisor, agent workers, V8 and libuv threads) during one warm run / N',
    ],
  };
});
