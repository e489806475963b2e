import { dirname } from 'node:path';
import type { Runtime } from '../runtime/runtime.js';
import type { ClusterOptions } from './cluster-node.js';

/**
 * This node's side of the cluster's control records: what it applies when a revocation or
 * stop reaches it, and what it announces (its agents, its persistent agents' manifests).
 */
export function localNodeOf(runtime: Runtime): ClusterOptions['local'] {
  return {
    revokeToken: (tokenId, reason, agentId) => {
      // an operator's revocation: only the named agent's own token, on the node it lives on
      if (agentId !== undefined)
        return runtime.isLive(agentId) &&
          runtime.tokens(agentId).some((t) => t.id === tokenId) &&
          runtime.revokeToken(tokenId, reason)
          ? 1
          : 0;
      // a token revoked on its own node: what here was narrowed from it goes too
      return runtime.revokeToken(tokenId, reason) ? 1 : runtime.revokeDelegatedFrom(tokenId, reason);
    },
    revokeAll: (agentId, reason) => (runtime.isLive(agentId) ? runtime.revokeAllTokens(agentId, reason) : 0),
    stopAgent: async (agentId, reason) => {
      if (!runtime.isLive(agentId)) return false;
      await runtime.stopAgent(agentId, reason);
      return true;
    },
    agents: () =>
      runtime.listAgents().map((a) => ({
        id: a.id,
        name: a.name,
        lifecycle: a.lifecycle,
        state: a.state,
        parent_id: a.parent_id,
        ...(a.id === runtime.bootstrapAgentId ? { bootstrap: true } : {}),
      })),
    freeAgentSlots: () => Math.max(0, runtime.setting('AAOS_MAX_AGENTS') - runtime.liveAgentCount),
    journal: runtime.clusterHooks().journal,
    persistentAgents: () =>
      runtime
        .storedAgents()
        .filter((a) => runtime.isLive(a.id))
        .map((a) => ({
          id: a.id,
          name: a.name,
          manifest_yaml: a.manifest_yaml,
          ...(a.manifest_path ? { manifest_path: a.manifest_path } : {}),
          created_at: a.created_at,
          ...(a.id === runtime.bootstrapAgentId ? { bootstrap: true } : {}),
        })),
    stateOf: (agentId) => {
      const { history, tokens, memories } = runtime.agentState(agentId);
      return {
        history,
        tokens,
        // as text: the taking node embeds them again in its own vector space
        memories: memories.map((m) => ({
          content: m.content,
          category: m.category,
          created_at: m.created_at,
          last_used_at: m.last_used_at,
        })),
      };
    },
    adopt: async (agent, state) => {
      if (state) await runtime.restoreAgentState(agent.id, state);
      // relative paths in a manifest read from a file resolve against that file's directory, as on its old node
      await runtime.spawnAgent(
        { yaml: agent.manifest_yaml, ...(agent.manifest_path ? { baseDir: dirname(agent.manifest_path) } : {}) },
        { id: agent.id },
      );
    },
    forget: async (agentId, reason) => {
      if (runtime.isLive(agentId)) await runtime.stopAgent(agentId, reason);
    },
  };
}

/** With AAOS_CLUSTER_KEY set: this node places children on other nodes and takes theirs (spread into the join options). */
export function remoteAgentsOf(runtime: Runtime): Pick<ClusterOptions, 'remoteAgents'> {
  const key = runtime.setting('AAOS_CLUSTER_KEY');
  if (!key) return {};
  const remoteAgents: NonNullable<ClusterOptions['remoteAgents']> = {
    key,
    placement: runtime.setting('AAOS_CLUSTER_PLACEMENT'),
    supervisor: runtime.clusterHooks().supervisor,
    // a child's run may take as long as any run, plus a minute for the hops
    requestTimeoutMs: runtime.setting('AAOS_RUN_TIMEOUT_MS') + 60_000,
    onRevoked: (listener) =>
      runtime.events.subscribe((e) => {
        if (e.type === 'CapabilityRevoked' && typeof e.token_id === 'string')
          listener(e.token_id, typeof e.reason === 'string' ? e.reason : 'revoked');
      }),
  };
  return { remoteAgents };
}
