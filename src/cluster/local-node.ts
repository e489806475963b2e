import { dirname } from 'node:path';
import type { Runtime } from '../runtime/runtime.js';
import { CapabilityStore } from '../store/capability-store.js';
import { AaosError, ErrorCode } from '../errors/index.js';
import type { ClusterOptions } from './cluster-node.js';
import type { CopiedMemory } from './records.js';

/**
 * This node's side of the cluster's control records: what it applies when a revocation or
 * stop reaches it, and what it announces (its agents, its persistent agents' manifests).
 */
export function localNodeOf(runtime: Runtime): ClusterOptions['local'] {
  const sup = runtime.supervisor;
  return {
    revokeToken: (tokenId, reason, agentId) => {
      // an operator's revocation: only the named agent's own token, on the node it lives on
      if (agentId !== undefined)
        return sup.isLive(agentId) &&
          sup.tokens(agentId).some((t) => t.id === tokenId) &&
          sup.revokeToken(tokenId, reason)
          ? 1
          : 0;
      // a token revoked on its own node: what here was narrowed from it goes too
      return sup.revokeToken(tokenId, reason) ? 1 : sup.revokeDelegatedFrom(tokenId, reason);
    },
    revokeAll: (agentId, reason) => (sup.isLive(agentId) ? sup.revokeAll(agentId, reason, { durable: true }) : 0),
    stopAgent: async (agentId, reason) => {
      if (!sup.isLive(agentId)) return false;
      await runtime.stopAgent(agentId, reason);
      return true;
    },
    agents: () =>
      sup.list().map((a) => ({
        id: a.id,
        name: a.name,
        lifecycle: a.lifecycle,
        state: a.state,
        parent_id: a.parent_id,
        ...(a.id === runtime.goals.agent ? { bootstrap: true } : {}),
      })),
    freeAgentSlots: () => Math.max(0, runtime.config.get('AAOS_MAX_AGENTS') - sup.liveCount),
    journal: runtime.journal,
    persistentAgents: () =>
      runtime.agentStore
        .list()
        .filter((a) => sup.isLive(a.id))
        .map((a) => ({
          id: a.id,
          name: a.name,
          manifest_yaml: a.manifest_yaml,
          ...(a.manifest_path ? { manifest_path: a.manifest_path } : {}),
          created_at: a.created_at,
          ...(a.id === runtime.goals.agent ? { bootstrap: true } : {}),
        })),
    stateOf: (agentId) => ({
      history: runtime.sessions.load(agentId),
      tokens: new CapabilityStore(runtime.store).load(agentId),
      memories: runtime.memory.list(agentId).map((m) => ({
        content: m.content,
        category: m.category,
        created_at: m.created_at,
        last_used_at: m.last_used_at,
      })),
    }),
    adopt: async (agent, state) => {
      if (state) {
        runtime.sessions.replace(agent.id, state.history);
        new CapabilityStore(runtime.store).save(agent.id, state.tokens);
        await adoptMemories(runtime, agent.id, state.memories);
      }
      // relative paths in a manifest read from a file resolve against that file's directory, as on its old node
      await runtime.spawnAgent(
        { yaml: agent.manifest_yaml, ...(agent.manifest_path ? { baseDir: dirname(agent.manifest_path) } : {}) },
        { id: agent.id },
      );
    },
    forget: async (agentId, reason) => {
      if (sup.isLive(agentId)) await runtime.stopAgent(agentId, reason);
    },
  };
}

/** With AAOS_CLUSTER_KEY set: this node places children on other nodes and takes theirs (spread into the join options). */
export function remoteAgentsOf(runtime: Runtime): Pick<ClusterOptions, 'remoteAgents'> {
  const key = runtime.config.get('AAOS_CLUSTER_KEY');
  if (!key) return {};
  const remoteAgents: NonNullable<ClusterOptions['remoteAgents']> = {
    key,
    placement: runtime.config.get('AAOS_CLUSTER_PLACEMENT'),
    supervisor: runtime.supervisor,
    // a child's run may take as long as any run, plus a minute for the hops
    requestTimeoutMs: runtime.config.get('AAOS_RUN_TIMEOUT_MS') + 60_000,
    onRevoked: (listener) =>
      runtime.audit.subscribe((e) => {
        if (e.type === 'CapabilityRevoked' && typeof e.token_id === 'string')
          listener(e.token_id, typeof e.reason === 'string' ? e.reason : 'revoked');
      }),
  };
  return { remoteAgents };
}

/**
 * The copied memories replace what this node's store holds under the agent's id (a copy left
 * from when it lived here before), each embedded again with this node's embedder, oldest first.
 */
async function adoptMemories(runtime: Runtime, agentId: string, memories: readonly CopiedMemory[]): Promise<void> {
  for (const old of runtime.memory.list(agentId)) runtime.memory.delete(agentId, old.id);
  const ordered = [...memories].sort((a, b) => a.created_at.localeCompare(b.created_at));
  for (let i = 0; i < ordered.length; i += EMBED_BATCH) {
    const batch = ordered.slice(i, i + EMBED_BATCH);
    const vectors = await runtime.memory.embedder.embed(batch.map((m) => m.content));
    for (const [j, m] of batch.entries()) {
      const embedding = vectors[j];
      if (!embedding)
        throw new AaosError(
          ErrorCode.EMBEDDING_FAILED,
          `moving agent ${agentId}: the embedder returned ${vectors.length} vectors for ${batch.length} memories`,
          { agent_id: agentId },
        );
      runtime.memory.store(
        agentId,
        { content: m.content, category: m.category, embedding },
        { maxRecords: Math.max(1, ordered.length) },
      );
    }
  }
}

const EMBED_BATCH = 32;
