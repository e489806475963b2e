import { AaosError, ErrorCode } from '../errors/index.js';
import type { AgentInfo } from '../kernel/agent-table.js';
import type { RunRecord } from '../store/run-store.js';
import { RemoteError, type DaemonClient } from './client.js';

export type Target = { agent: AgentInfo } | { run: RunRecord };

const NOT_FOUND = new Set(['AAOS_ERR_AGENT_NOT_FOUND', 'AAOS_ERR_RUN_NOT_FOUND']);

async function orMissing<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof RemoteError && err.code !== undefined && NOT_FOUND.has(err.code)) return undefined;
    throw err;
  }
}

/**
 * What `status`, `stop` and `logs` act on: an agent (id, name or id prefix) or a run (id or
 * prefix). A prefix that fits an agent and a run alike is ambiguous, as git says of a
 * short hash that fits a commit and a tree: nothing is picked, both are listed.
 */
export async function resolveTarget(client: DaemonClient, ref: string): Promise<Target> {
  const [agent, run] = await Promise.all([
    orMissing(client.call<AgentInfo>('agent.status', { agent_id: ref })),
    orMissing(client.call<RunRecord>('run.status', { run_id: ref })),
  ]);
  if (agent && run) {
    if (agent.id === ref || agent.name === ref) return { agent };
    if (run.run_id === ref) return { run };
    throw new AaosError(
      ErrorCode.ID_AMBIGUOUS,
      `prefix '${ref}' matches an agent and a run: agent ${agent.id} (${agent.name}), run ${run.run_id} (${run.state}); give more of the id`,
      {
        ref,
        candidates: [agent.id, run.run_id],
      },
    );
  }
  if (agent) return { agent };
  if (run) return { run };
  throw new AaosError(ErrorCode.RUN_NOT_FOUND, `no agent or run with id, name or id prefix '${ref}'`, { ref });
}
