// Bench agent: agent→agent `request` through the supervisor's Router (envelope parsed and
// validated, sender checked, message_send authorised, audited, delivered to the responder's
// mailbox, its answer returned). Message (JSON text): {to, mode: 'seq'|'pipe', n, warm, depth, payload, maxMs}
//   seq   per-request RTT samples (µs) after `warm` warm-up requests
//   pipe  `depth` requests in flight; returns envelopes/s (request + reply = one envelope each way)
import { benchResult, pipelined, sequential } from './drive.mjs';

let me;

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
    if (cfg.mode === 'seq') return benchResult(runId, { samples: await sequential(cfg, ask) });
    const { done, ms } = await pipelined(cfg, ask);
    return benchResult(runId, { requests_per_s: (done * 1000) / ms, requests: done, ms });
  },
};
