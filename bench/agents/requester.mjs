// Bench agent: agent→agent `request` through the supervisor's Router (envelope parsed and
// validated, sender checked, message_send authorised, audited, delivered to the responder's
// mailbox, its answer returned). Message (JSON text): {to, mode: 'seq'|'pipe', n, warm, depth, payload, maxMs}
//   seq   per-request RTT samples (µs) after `warm` warm-up requests
//   pipe  `depth` requests in flight; returns envelopes/s (request + reply = one envelope each way)
let me;

const result = (runId, bench) => ({ run_id: runId, response: 'ok', stop_reason: 'complete', iterations: 0, transcript: [], error: null, bench });

export const agentModule = {
  init(agent) {
    me = agent;
  },
  async handle(delivery, api) {
    const runId = delivery.run.run_id;
    const cfg = JSON.parse(JSON.parse(delivery.envelope).params.message);
    let seq = 0;
    const envelope = () =>
      JSON.stringify({
        jsonrpc: '2.0',
        id: ++seq,
        method: 'bench.ping',
        params: { message: cfg.payload ?? 'ping' },
        metadata: { sender: me.agent_id, recipient: cfg.to, trace_id: `${runId}-${seq}`, timestamp: new Date().toISOString() },
      });
    const ask = async () => {
      const reply = await api.request(envelope(), 10_000, runId);
      if (reply.stop_reason !== 'complete') throw new Error(`responder answered ${reply.stop_reason}: ${JSON.stringify(reply.error)}`);
    };
    if (cfg.mode === 'seq') {
      for (let i = 0; i < cfg.warm; i++) await ask();
      // at most n samples and at most maxMs of sampling
      const samples = [];
      const deadline = performance.now() + (cfg.maxMs ?? Infinity);
      for (let i = 0; i < cfg.n && performance.now() < deadline; i++) {
        const t0 = process.hrtime.bigint();
        await ask();
        samples.push(Number(process.hrtime.bigint() - t0) / 1e3);
      }
      return result(runId, { samples });
    }
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
        ask().then(() => {
          done++;
          if (done >= cfg.n) resolve();
          else next();
        }, reject);
      };
      for (let i = 0; i < Math.min(cfg.depth, cfg.n); i++) next();
    });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    return result(runId, { requests_per_s: (done * 1000) / ms, requests: done, ms });
  },
};
