import type { Runtime } from '../runtime/runtime.js';
import type { MetricsSources } from './metrics.js';

/** The sampled side of the metrics, read from a running Runtime. */
export function metricsSourcesOf(runtime: Runtime): MetricsSources {
  const { supervisor, goals, approvals, gateway } = runtime;
  return {
    agents: () => supervisor.agents.all().map((r) => ({ state: r.actor.state })),
    runs: () => ({ queued: goals.waiting, running: goals.running }),
    approvalsPending: () => approvals.list().pending.length,
    scheduler: () =>
      gateway.router.available().map((provider) => {
        const s = gateway.scheduler.stats(provider);
        return { provider, queued: s.queued, inFlight: s.inFlight };
      }),
    isTool: (name) => supervisor.tools.get(name) !== undefined,
    workerHeaps: async () => {
      const live = supervisor.agents.all();
      const stats = await Promise.all(live.map(async (r) => ({ r, s: await r.actor.stats(1000).catch(() => undefined) })));
      return stats.flatMap(({ r, s }) => (s ? [{ id: r.id, name: r.name, heapBytes: Math.round(s.heap_used_mb * 1048576) }] : []));
    },
  };
}
