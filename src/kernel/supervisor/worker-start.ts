import { AaosError, ErrorCode, isAaosError } from '../../errors/index.js';
import type { LiveAgent } from '../agent-table.js';
import { AgentState, isTerminal } from '../lifecycle.js';
import type { SupervisorCore } from './core.js';

/** Boots (or takes a pre-started) worker for `rec` and binds it to its actor. */
export async function startWorker(core: SupervisorCore, rec: LiveAgent, signal?: AbortSignal): Promise<void> {
  const launched = await core.launcher.acquire({
    module: rec.module,
    maxHeapMb: rec.manifest.limits.max_heap_mb,
    name: `${rec.name}:${rec.id}`,
    ...(signal ? { signal } : {}),
  });
  if (isTerminal(rec.actor.state) || rec.actor.state === AgentState.Stopping) {
    await core.launcher.terminate(launched.worker);
    throw rec.actor.failure ?? new AaosError(ErrorCode.AGENT_STOPPED, `agent ${rec.name} was stopped while starting`);
  }
  if (signal?.aborted) {
    await core.launcher.terminate(launched.worker);
    throw cancelledBeforeStart(rec, signal.reason);
  }
  rec.actor.attach(launched, {
    agent_id: rec.id,
    name: rec.name,
    max_iterations: rec.manifest.limits.max_iterations,
  });
}

/** CANCELLED for work that a cancelled run asked for but that never started. */
export function cancelledBeforeStart(rec: LiveAgent, reason: unknown): AaosError {
  const why = isAaosError(reason) ? reason.message : 'cancelled';
  return new AaosError(ErrorCode.CANCELLED, `not started for agent ${rec.name}: its run was cancelled (${why})`, {
    agent_id: rec.id,
  });
}
