// tool_call: the `echo` tool called from inside an agent, through the supervisor's whole
// tool path: worker → port → actor → dispatchTool (capability check `tool: echo`, registry,
// ToolInvoked/ToolResult audit events) → echo → port → worker.
//
//   rtt_us_p50/p99   sequential calls, one at a time, timed inside the agent (up to n samples
//                    per rep, at most maxMs of sampling; `samples` says how many)
//   calls_per_s      pipelined: `depth` calls in flight from one agent
//
// Two configurations, interleaved per repetition:
//   runtime  the real composition root (Runtime.open): the audit log has the durable LMDB sink,
//            so every audit event is also a synchronous LMDB write transaction  ← headline
//   bare     a Supervisor with an in-memory audit log only (same capability check and events,
//            no LMDB sink), to attribute the cost of the durable audit sink
// The echo payload is the ~1 KB JSON-RPC envelope string the raw port RTT uses, so the ratio
// to raw.port_rtt_us_p50 compares like with like.

import { runSuite, importDist } from '../lib/suite.mjs';
import { makeEnvelope } from '../lib/payloads.mjs';
import { percentiles, sig, mediansOf, shareOf } from '../lib/stats.mjs';
import { agentModuleUrl, manifestYaml, openRuntime, stubModels, tempDir, writeScript } from '../lib/aaos.mjs';

await runSuite('tool_call', async ({ quick, log }) => {
  const cfg = quick
    ? { reps: 2, n: 4000, warm: 300, pipeN: 8000, depth: 32, maxMs: 1200 }
    : { reps: 5, n: 20000, warm: 1000, pipeN: 40000, depth: 32, maxMs: 8000 };
  log(`config ${JSON.stringify(cfg)}`);
  const { Supervisor } = await importDist('src/kernel/supervisor.js');
  const { createEchoTool } = await importDist('src/tools/echo.js');
  const tmp = tempDir('tool');
  const payload = JSON.stringify(makeEnvelope(1));
  const script = writeScript(tmp.dir, 'unused', { turns: [{ text: 'unused' }] });
  const yaml = manifestYaml({ name: 'tool-loop', model: `scripted:${script}`, capabilities: ['tool: echo'] });

  const runtime = await openRuntime({ dataDir: `${tmp.dir}/rt` });
  const bare = new Supervisor({ dataDir: `${tmp.dir}/bare`, models: stubModels, tools: [createEchoTool()] });
  const setups = [
    { key: 'runtime', sup: runtime.internalsForTests().supervisor },
    { key: 'bare', sup: bare },
  ];
  for (const s of setups) s.agent = await s.sup.spawn(yaml, { module: agentModuleUrl('tool-loop') });

  const call = async (sup, id, msg) => {
    const out = await sup.run(id, JSON.stringify(msg));
    if (out.stop_reason !== 'complete')
      throw new Error(`tool-loop agent ended with ${out.stop_reason}: ${JSON.stringify(out.error)}`);
    return out.bench;
  };

  const reps = [];
  try {
    for (let r = 0; r < cfg.reps; r++) {
      const rep = {};
      for (const s of setups) {
        const seq = await call(s.sup, s.agent.id, { mode: 'seq', n: cfg.n, warm: cfg.warm, payload, maxMs: cfg.maxMs });
        const p = percentiles(seq.samples, [50, 99]);
        const pipe = await call(s.sup, s.agent.id, {
          mode: 'pipe',
          n: cfg.pipeN,
          depth: cfg.depth,
          payload,
          maxMs: cfg.maxMs,
        });
        const prefix = s.key === 'runtime' ? '' : `${s.key}_`;
        rep[`${prefix}rtt_us_p50`] = p.p50;
        rep[`${prefix}rtt_us_p99`] = p.p99;
        rep[`${prefix}calls_per_s`] = pipe.calls_per_s;
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
  }

  const { results, spreads } = mediansOf(reps, 'tool_call');
  const sink = shareOf(results.bare_rtt_us_p50, results.rtt_us_p50, 'tool_call.audit_sink_share');
  results.audit_sink_share = sink.share;
  return {
    results: { tool_call: results },
    spread: spreads,
    details: {
      tool_call: {
        config: { ...cfg, payload_bytes: payload.length },
        method: {
          rtt: 'bench/agents/tool-loop.mjs: api.callTool(runId, "echo", {message: ~1 KB}) awaited one at a time; hrtime inside the worker',
          calls_per_s: 'same agent, `depth` calls in flight',
          runtime: 'Runtime.open (LMDB-backed audit sink, write-behind; 2 events per tool call)',
          bare: 'new Supervisor with in-memory AuditLog only (same capability check, same events, no durable sink)',
          audit_sink_share: '1 - bare_rtt_us_p50 / rtt_us_p50',
        },
      },
    },
    notes: sink.note ? [sink.note] : [],
  };
});
