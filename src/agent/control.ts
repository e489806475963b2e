import { getPriority } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import type { MessagePort } from 'node:worker_threads';
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';

/** What an operator can ask a worker about itself (low rate: status pages, health). */
export interface WorkerStats {
  heap_used_mb: number;
  heap_limit_mb: number;
  active_deliveries: number;
  uptime_ms: number;
  /** always 0: workers start with an empty environment */
  env_vars: number;
  /** scheduling niceness of this thread (Linux) */
  nice: number;
}

export interface ControlApi {
  stats(): WorkerStats;
}

/**
 * The control channel: a second port, driven with comlink. Its calls are rare and
 * convenience matters more than speed here; the hot path (model, tool, message
 * requests) stays on the typed protocol of the main port.
 */
export function exposeControl(port: MessagePort, activeDeliveries: () => number): void {
  const started = Date.now();
  const api: ControlApi = {
    stats() {
      const heap = getHeapStatistics();
      return {
        heap_used_mb: Math.round((heap.used_heap_size / 1048576) * 10) / 10,
        heap_limit_mb: Math.round(heap.heap_size_limit / 1048576),
        active_deliveries: activeDeliveries(),
        uptime_ms: Date.now() - started,
        env_vars: Object.keys(process.env).length,
        nice: getPriority(0),
      };
    },
  };
  expose(api, nodeEndpoint(port));
}
