import type { Runtime } from '../runtime/runtime.js';
import type { MetricsSources } from './metrics.js';

/** The sampled side of the metrics, read from a running Runtime. */
export function metricsSourcesOf(runtime: Runtime): MetricsSources {
  return {
    agents: () => runtime.listAgents().map((a) => ({ state: a.state })),
    runs: () => runtime.goalLoad(),
    approvalsPending: () => runtime.approvals.list().pending.length,
    scheduler: () => runtime.providerQueues(),
    isTool: (name) => runtime.hasTool(name),
    workerHeaps: async () => {
      const live = runtime.listAgents();
      const stats = await Promise.all(live.map(async (r) => ({ r, s: await runtime.workerStats(r.id, 1000) })));
      return stats.flatMap(({ r, s }) =>
        s ? [{ id: r.id, name: r.name, heapBytes: Math.round(s.heap_used_mb * 1048576) }] : [],
      );
    },
  };
}
