import type { AgentManifest } from '../manifest/schema.js';
import type { NodeBeat } from './records.js';

/** AAOS_CLUSTER_PLACEMENT */
export type Placement = 'least-loaded' | 'local';

export interface PlacementView {
  self: string;
  /** live agents on this node now (exact) */
  selfAgents: number;
  /** the other nodes' latest heartbeats */
  beats: NodeBeat[];
  /** children this node placed on each node since that node's last heartbeat */
  placedSinceBeat: ReadonlyMap<string, number>;
  policy: Placement;
}

/**
 * Where a child runs. A manifest may pin it with `metadata.placement`: `local` (its parent's
 * node) or a node id. A child with file grants stays on its parent's node (its paths name
 * that node's files), as does every child under the `local` policy. Otherwise: the node
 * with the fewest live agents that takes children from other nodes; this node on a tie.
 */
export function placeChild(manifest: AgentManifest, view: PlacementView): string {
  const pin = manifest.metadata['placement'];
  const others = view.beats.filter((b) => b.node_id !== view.self && b.remote_agents);
  if (typeof pin === 'string' && pin !== 'any') {
    return others.some((b) => b.node_id === pin) ? pin : view.self;
  }
  if (view.policy === 'local' && pin !== 'any') return view.self;
  if (
    manifest.capabilities.some(
      (c) => c.grant.capability.kind === 'file_read' || c.grant.capability.kind === 'file_write',
    )
  )
    return view.self;
  let best = view.self;
  let bestLoad = view.selfAgents;
  for (const b of others) {
    if (b.free_agent_slots <= (view.placedSinceBeat.get(b.node_id) ?? 0)) continue;
    const load = b.live_agents + (view.placedSinceBeat.get(b.node_id) ?? 0);
    if (load < bestLoad) {
      best = b.node_id;
      bestLoad = load;
    }
  }
  return best;
}
