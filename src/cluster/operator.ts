import { AaosError, ErrorCode } from '../errors/index.js';
import type { Runtime } from '../runtime/runtime.js';
import type { AgentPlace, ClusterNode } from './cluster-node.js';

/**
 * The operator's revocations and stops on a cluster node: for an agent on any node (or a
 * persistent agent whose node is down), recorded in the cluster and applied by the node
 * the agent lives on. `localId`: the agent when it lives on this node.
 */
export async function stopInCluster(
  runtime: Runtime,
  cluster: ClusterNode,
  localId: string | undefined,
  ref: string,
  force: boolean,
): Promise<Record<string, unknown>> {
  const place = await placeOf(cluster, localId, ref);
  const id = place.agent.id;
  const bootstrap =
    localId !== undefined ? id === runtime.bootstrapAgentId : place.alive && place.agent.bootstrap === true;
  if (bootstrap && !force) {
    throw new AaosError(
      ErrorCode.BOOTSTRAP_PROTECTED,
      `agent ${id} is the bootstrap agent of node ${place.node_id}: without it that node refuses every goal until it restarts; stop it with force (agentd stop --force ${id}) if that is what you want`,
      { agent_id: id, node_id: place.node_id },
    );
  }
  const outcome = await cluster.control.stopAgent(id, place.alive ? place.node_id : undefined, 'stopped by operator');
  return { ok: true, agent_id: id, node_id: place.node_id, applied: outcome.applied };
}

export async function revokeInCluster(
  cluster: ClusterNode,
  localId: string | undefined,
  p: { agent_id: string; token_id?: string | undefined },
): Promise<Record<string, unknown>> {
  const place = await placeOf(cluster, localId, p.agent_id);
  const id = place.agent.id;
  if (!place.alive && p.token_id !== undefined) {
    throw new AaosError(
      ErrorCode.CLUSTER_UNAVAILABLE,
      `agent ${id} lives on node ${place.node_id}, which is down; its tokens get new ids when it comes back, so token ${p.token_id} cannot be revoked now: revoke all its tokens (--all) or stop it, both are applied when the node is back`,
      { agent_id: id, node_id: place.node_id, token_id: p.token_id },
    );
  }
  const outcome = await cluster.control.revoke(
    { agent_id: id, ...(p.token_id !== undefined ? { token_id: p.token_id } : {}) },
    place.alive ? place.node_id : undefined,
    'revoked by operator',
  );
  return { agent_id: id, revoked: outcome.revoked, node_id: place.node_id, applied: outcome.applied };
}

async function placeOf(cluster: ClusterNode, localId: string | undefined, ref: string): Promise<AgentPlace> {
  // it lives here (the heartbeat may not have announced it yet)
  if (localId !== undefined)
    return {
      node_id: cluster.nodeId,
      alive: true,
      agent: { id: localId, name: localId, lifecycle: '', state: '', parent_id: null },
    };
  const place = await cluster.locate(ref);
  if (!place)
    throw new AaosError(
      ErrorCode.AGENT_NOT_FOUND,
      `no agent with id, name or id prefix '${ref}' on any node of the cluster`,
      { agent_id: ref },
    );
  return place;
}
