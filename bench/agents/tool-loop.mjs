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
    const payload = cfg.payload ?? 'x';
    let seq = 0;
    // Each input differs (a fixed-width counter in front): the supervisor's tool repeat guard
    // stops a run that repeats one call, and it must stay on the measured path.
    const call = async () => {
      const input = { message: `${(seq++).toString(36).padStart(8, '0')}${payload}` };
      const out = await api.callTool(runId, 'echo', input);
      if (out.message.length !== input.message.length) throw new Error('echo returned something else');
    };
    if (cfg.mode === 'seq') return benchResult(runId, { agent: me.name, samples: await sequential(cfg, call) });
    const { done, ms } = await pipelined(cfg, call);
    return benchResult(runId, { agent: me.name, calls_per_s: (done * 1000) / ms, calls: done, ms });
  },
};
