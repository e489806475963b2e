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
    // the runtime's own envelope helper, from the build under test (the suite passes its URL)
    const { requestEnvelope, replyResult } = await import(cfg.envelopes);
    const params = { message: cfg.payload ?? 'ping' };
    const envelope = () =>
      JSON.stringify(
        requestEnvelope({
          sender: me.agent_id,
          recipient: cfg.to,
          method: 'bench.ping',
          params,
          trace: delivery.run.trace,
        }),
      );
    const ask = async () => {
      const result = replyResult(await api.request(envelope(), 10_000, runId));
      if (result.stop_reason !== 'complete') throw new Error(`responder answered ${result.stop_reason}`);
    };
    if (cfg.mode === 'seq') return benchResult(runId, { samples: await sequential(cfg, ask) });
    const { done, ms } = await pipelined(cfg, ask);
    return benchResult(runId, { requests_per_s: (done * 1000) / ms, requests: done, ms });
  },
};
