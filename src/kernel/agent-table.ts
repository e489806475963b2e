import type { CallContext } from '../audit/call-context.js';
import { AaosError, ErrorCode } from '../errors/index.js';
import type { AgentManifest } from '../manifest/schema.js';
import type { AgentActor } from './actor.js';
import type { AgentState } from './lifecycle.js';

/** A live agent as the supervisor holds it (a persistent agent's stored record is `AgentRecord`, store/agent-store.ts). */
export interface LiveAgent {
  id: string;
  name: string;
  manifest: AgentManifest;
  parentId: string | undefined;
  depth: number;
  createdAt: string;
  actor: AgentActor;
  /** module the worker hosts (file URL); the LLM loop unless a caller chose another */
  module: string;
  /** goal run this agent was spawned for (children), for audit and workspace */
  runId: string | undefined;
  workspace: string | undefined;
  /** the agent as a caller outside any delivery (id, name, parent, goal run): the header of its lifecycle events */
  identity: CallContext;
  /** ids of live children, so stopping a parent stops its subtree */
  children: Set<string>;
}

export interface AgentInfo {
  id: string;
  name: string;
  model: string;
  state: AgentState;
  lifecycle: string;
  parent_id: string | null;
  depth: number;
  created_at: string;
  capability_count: number;
  queued: number;
  busy: number;
  failure?: string;
}

export interface AgentLimits {
  maxAgents: number;
  maxDepth: number;
}

/**
 * Live agents plus admission control. `reserve` is synchronous so that concurrent
 * spawns can never overshoot the limits (the slot is taken before any await).
 */
export class AgentTable {
  private readonly agents = new Map<string, LiveAgent>();
  private reserved = 0;

  constructor(readonly limits: AgentLimits) {}

  reserve(name: string, depth: number): () => void {
    if (depth > this.limits.maxDepth) {
      throw new AaosError(
        ErrorCode.SPAWN_DEPTH,
        `cannot spawn '${name}' at depth ${depth}: the maximum spawn depth is ${this.limits.maxDepth}`,
        {
          depth,
          max_depth: this.limits.maxDepth,
        },
      );
    }
    if (this.agents.size + this.reserved >= this.limits.maxAgents) {
      throw new AaosError(
        ErrorCode.AGENT_LIMIT,
        `cannot spawn '${name}': the live-agent limit of ${this.limits.maxAgents} is reached`,
        {
          max_agents: this.limits.maxAgents,
        },
      );
    }
    this.reserved++;
    let released = false;
    return () => {
      if (!released) {
        released = true;
        this.reserved--;
      }
    };
  }

  add(record: LiveAgent): void {
    this.agents.set(record.id, record);
  }

  remove(id: string): LiveAgent | undefined {
    const rec = this.agents.get(id);
    this.agents.delete(id);
    if (rec?.parentId) this.agents.get(rec.parentId)?.children.delete(id);
    return rec;
  }

  get(id: string): LiveAgent | undefined {
    return this.agents.get(id);
  }

  require(id: string): LiveAgent {
    const rec = this.agents.get(id);
    if (!rec) throw new AaosError(ErrorCode.AGENT_NOT_FOUND, `no live agent with id '${id}'`, { agent_id: id });
    return rec;
  }

  /** by id, or by name when exactly one live agent has it */
  resolve(ref: string): LiveAgent | undefined {
    const byId = this.agents.get(ref);
    if (byId) return byId;
    let found: LiveAgent | undefined;
    for (const rec of this.agents.values()) {
      if (rec.name === ref) {
        if (found) return undefined; // ambiguous names never resolve
        found = rec;
      }
    }
    return found;
  }

  all(): LiveAgent[] {
    return [...this.agents.values()];
  }

  get size(): number {
    return this.agents.size;
  }
}
