// Bench agent: calls the `echo` tool from inside the agent, through the supervisor's
// whole tool path (capability check, registry, audit events, the tool itself).
// Message (JSON text in params.message): {mode: 'seq'|'pipe', n, warm, depth, payload, maxMs}
// (each phase stops early after maxMs; the number of samples/calls is returned)
//   seq   n sequential calls after `warm` warm-up calls; returns per-call RTT samples (µs)
//   pipe  n calls with `depth` in flight at once; returns calls/s
// The result travels back as a RunResult with an extra `bench` field.
let me;

const result = (runId, bench) => ({ run_id: runId, response: 'ok', stop_reason: 'complete', iterations: 0, transcript: [], error: null, bench });

export const agentModule = {
  init(agent) {
    me = agent;
  },
  async handle(delivery, api) {
    const runId = delivery.run.run_id;
    const env = JSON.parse(delivery.envelope);
    const cfg = JSON.parse(env.params.message);
    const input = { message: cfg.payload ?? 'x' };
    if (cfg.mode === 'seq') {
      for (let i = 0; i < cfg.warm; i++) await api.callTool(runId, 'echo', input);
      // at most n samples, and at most maxMs of sampling (a slow path must not stall the suite)
      const samples = [];
      const deadline = performance.now() + (cfg.maxMs ?? Infinity);
      for (let i = 0; i < cfg.n && performance.now() < deadline; i++) {
        const t0 = process.hrtime.bigint();
        const out = await api.callTool(runId, 'echo', input);
        samples.push(Number(process.hrtime.bigint() - t0) / 1e3);
        if (out.message.length !== input.message.length) throw new Error('echo returned something else');
      }
      return result(runId, { agent: me.name, samples });
    }
    // pipelined: keep `depth` calls in flight until n have completed
    let started = 0;
    let done = 0;
    const t0 = process.hrtime.bigint();
    await new Promise((resolve, reject) => {
      const deadline = performance.now() + (cfg.maxMs ?? Infinity);
      const next = () => {
        // past the time bound: stop issuing; finish with what has been started
        if (started < cfg.n && performance.now() > deadline) cfg.n = started;
        if (started >= cfg.n) {
          if (done >= cfg.n) resolve();
          return;
        }
        started++;
        api.callTool(runId, 'echo', input).then(() => {
          done++;
          if (done >= cfg.n) resolve();
          else next();
        }, reject);
      };
      for (let i = 0; i < Math.min(cfg.depth, cfg.n); i++) next();
    });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    return result(runId, { agent: me.name, calls_per_s: (done * 1000) / ms, calls: done, ms });
  },
};
