// Bench agent: calls the `echo` tool from inside the agent, through the supervisor's
// whole tool path (capability check, registry, audit events, the tool itself).
// Message (JSON text in params.message): {mode: 'seq'|'pipe', n, warm, depth, payload, maxMs}
//   seq   n sequential calls after `warm` warm-up calls; returns per-call RTT samples (µs)
//   pipe  n calls with `depth` in flight at once; returns calls/s
import { benchResult, pipelined, sequential } from './drive.mjs';

let me;

export const agentModule = {
  init(agent) {
    me = agent;
  },
  async handle(delivery, api) {
    const runId = delivery.run.run_id;
    const cfg = JSON.parse(JSON.parse(delivery.envelope).params.message);
    const input = { message: cfg.payload ?? 'x' };
    const call = async () => {
      const out = await api.callTool(runId, 'echo', input);
      if (out.message.length !== input.message.length) throw new Error('echo returned something else');
    };
    if (cfg.mode === 'seq') return benchResult(runId, { agent: me.name, samples: await sequential(cfg, call) });
    const { done, ms } = await pipelined(cfg, call);
    return benchResult(runId, { agent: me.name, calls_per_s: (done * 1000) / ms, calls: done, ms });
  },
};
