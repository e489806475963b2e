// router: agent→agent `request` through the supervisor. Agent A (bench/agents/requester.mjs)
// calls api.request(envelope) → Router.request: the envelope JSON is parsed and validated
// (zod), the sender is checked against the calling agent, `message_send: [responder]` is
// authorised, MessageSent/MessageDelivered are audited, the envelope is delivered to B's
// mailbox as a run (AgentExecutionStarted/Completed audited), B (bench/agents/responder.mjs)
// answers at once, and its result travels back to A in a JSON-RPC response envelope.
//
//   rtt_us_p50/p99    sequential requests, timed inside A
//   envelopes_per_s   `depth` requests in flight (B takes up to `depth` deliveries at once);
//                     counts envelopes through the router, request + reply = 2 per request
//   supervisor_cpu_us_per_request   CPU of the supervisor (main) thread during the pipelined
//                     phase / requests (schedstat): what the router path costs the supervisor
//
// Flags: --reps N, --setups runtime,bare, --perf <base> (Linux perf on the supervisor thread
// during the measured phases; summarise with bench/lib/perf-sampler.mjs), --profile <base>
// (inspector CPU profile of the same stretches; read it from a quiet run only).
//
// Same two configurations as tool_call, interleaved: `runtime` (Runtime.open, durable LMDB
// audit sink; headline) and `bare` (Supervisor with in-memory audit only).

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runSuite, importDist, DIST_DIR } from '../lib/suite.mjs';
import { percentiles, sig, mediansOf, shareOf } from '../lib/stats.mjs';
import { mainThreadCpuNs } from '../lib/thread-cpu.mjs';
import { startPerfSampler } from '../lib/perf-sampler.mjs';
import { startProfiler } from '../lib/profile.mjs';
import { agentModuleUrl, manifestYaml, openRuntime, stubModels, tempDir, writeScript } from '../lib/aaos.mjs';

await runSuite('router', async ({ quick, flags, log }) => {
  const cfg = quick
    ? { reps: 2, n: 3000, warm: 200, pipeN: 6000, depth: 32, maxMs: 1200 }
    : { reps: 5, n: 20000, warm: 1000, pipeN: 40000, depth: 32, maxMs: 8000 };
  if (flags.reps !== undefined) cfg.reps = Number(flags.reps);
  const only = typeof flags.setups === 'string' ? flags.setups.split(',') : ['runtime', 'bare'];
  log(`config ${JSON.stringify(cfg)} setups ${only.join(',')}`);
  const sampler =
    typeof flags.perf === 'string' ? startPerfSampler(flags.perf, { all: flags['perf-all'] === true }) : null;
  if (typeof flags.perf === 'string' && !sampler) log('--perf: perf is not available; no samples');
  const profiler = typeof flags.profile === 'string' ? await startProfiler() : null;
  const measured = (fn) => (sampler ? sampler.around(fn) : profiler ? profiler.around(fn) : fn());
  const { Supervisor } = await importDist('src/kernel/supervisor.js');
  const tmp = tempDir('router');
  const script = writeScript(tmp.dir, 'unused', { turns: [{ text: 'unused' }] });
  const model = `scripted:${script}`;
  const requesterYaml = manifestYaml({ name: 'requester', model, capabilities: ['message_send: [responder]'] });
  const responderYaml = manifestYaml({ name: 'responder', model });

  const runtime = await openRuntime({ dataDir: `${tmp.dir}/rt` });
  const bare = new Supervisor({ dataDir: `${tmp.dir}/bare`, models: stubModels, tools: [] });
  const setups = [
    { key: 'runtime', sup: runtime.internalsForTests().supervisor },
    { key: 'bare', sup: bare },
  ].filter((s) => only.includes(s.key));
  for (const s of setups) {
    s.responder = await s.sup.spawn(responderYaml, { module: agentModuleUrl('responder'), concurrency: cfg.depth });
    s.requester = await s.sup.spawn(requesterYaml, { module: agentModuleUrl('requester') });
  }
  const call = async (s, msg) => {
    const envelopes = pathToFileURL(path.join(DIST_DIR, 'src/protocol/envelopes.js')).href;
    const out = await s.sup.run(s.requester.id, JSON.stringify({ to: s.responder.id, envelopes, ...msg }));
    if (out.stop_reason !== 'complete')
      throw new Error(`requester ended with ${out.stop_reason}: ${JSON.stringify(out.error)}`);
    return out.bench;
  };

  const reps = [];
  try {
    for (let r = 0; r < cfg.reps; r++) {
      const rep = {};
      for (const s of setups) {
        const seq = await measured(() => call(s, { mode: 'seq', n: cfg.n, warm: cfg.warm, maxMs: cfg.maxMs }));
        const p = percentiles(seq.samples, [50, 99]);
        // the clocks run inside: a sampler's own start and stop are not counted
        let cpuNs = null;
        let procUs = 0;
        const pipe = await measured(async () => {
          const cpu0 = mainThreadCpuNs();
          const proc0 = process.cpuUsage();
          const out = await call(s, { mode: 'pipe', n: cfg.pipeN, depth: cfg.depth, maxMs: cfg.maxMs });
          const proc1 = process.cpuUsage(proc0);
          const cpu1 = mainThreadCpuNs();
          if (cpu0 !== null && cpu1 !== null) cpuNs = cpu1 - cpu0;
          procUs = proc1.user + proc1.system;
          return out;
        });
        const prefix = s.key === 'runtime' ? '' : `${s.key}_`;
        rep[`${prefix}rtt_us_p50`] = p.p50;
        rep[`${prefix}rtt_us_p99`] = p.p99;
        rep[`${prefix}envelopes_per_s`] = pipe.requests_per_s * 2;
        if (cpuNs !== null) rep[`${prefix}supervisor_cpu_us_per_request`] = cpuNs / 1e3 / pipe.requests;
        rep[`${prefix}process_cpu_us_per_request`] = procUs / pipe.requests;
        rep[`${prefix}samples`] = seq.samples.length;
      }
      log(
        `rep ${r + 1}/${cfg.reps}: ${Object.entries(rep)
          .map(([k, v]) => `${k}=${sig(v, 3)}`)
          .join(' ')}`,
      );
      reps.push(rep);
    }
  } finally {
    await bare.shutdown();
    await runtime.close();
    tmp.cleanup();
    if (profiler) await profiler.save(flags.profile);
  }

  const { results, spreads } = mediansOf(reps, 'router');
  const sink =
    results.bare_rtt_us_p50 !== undefined && results.rtt_us_p50 !== undefined
      ? shareOf(results.bare_rtt_us_p50, results.rtt_us_p50, 'router.audit_sink_share')
      : { share: null, note: null };
  results.audit_sink_share = sink.share;
  return {
    results: { router: results },
    spread: spreads,
    details: {
      router: {
        config: cfg,
        method: {
          rtt: 'requester api.request(envelope, 10 s) awaited one at a time → Router.request → responder run → reply; hrtime inside the requester',
          envelopes_per_s: '2 × requests/s with `depth` requests in flight; responder spawned with concurrency = depth',
          supervisor_cpu_us_per_request:
            'CPU of the supervisor thread (/proc/self/task/<pid>/schedstat) during the pipelined phase / requests',
          process_cpu_us_per_request:
            'CPU of the whole process (supervisor, both agents’ workers, V8 and libuv threads) during the pipelined phase / requests',
          runtime: 'Runtime.open (durable LMDB audit sink, write-behind: 4 audit events per request)',
          bare: 'new Supervisor with in-memory AuditLog only',
        },
      },
    },
    notes: sink.note ? [sink.note] : [],
  };
});
