import { createHash } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import { AaosError, ErrorCode, isAaosError, toPlainError } from '../errors/index.js';
import { AgentState, type CopiedMemory, PersistentAgent } from './records.js';
import { recordMac, recordMacMatches } from './signed.js';

/** A persistent agent's state as this node holds it. */
type LocalAgentState = Pick<AgentState, 'history' | 'tokens' | 'memories'>;

/** What re-homing needs of the node. */
export interface RehomeLocal {
  /** the persistent agents living here (bootstrap flagged) */
  persistentAgents(): Array<Omit<PersistentAgent, 'home'>>;
  stateOf(agentId: string): LocalAgentState;
  /** writes the state into this node's store, then starts the agent here under its id */
  adopt(agent: PersistentAgent, state: LocalAgentState | undefined): Promise<void>;
  /** drops a persistent agent restored here that another node took over meanwhile */
  forget(agentId: string, reason: string): Promise<void>;
}

/** A record must stay under NATS's default 1 MiB message limit. */
const MAX_STATE_BYTES = 900_000;
/** Of which episodic memories may take this much (the most recently used first); history gets the rest. */
const MAX_MEMORY_BYTES = 400_000;

/**
 * Persistent agents outlive their node: each node copies the durable state of the
 * persistent agents living on it (history, token states) to `aaos_agent_state` whenever it
 * changed (checked every heartbeat), and a node asked to use one whose node is down takes it
 * over: it claims the agent's record (compare-and-set on its revision, so one node wins),
 * writes the copied state into its own store and starts the agent there under its id.
 */
export class Rehoming {
  /** per agent: the fingerprint of the state last copied */
  private readonly copied = new Map<string, string>();
  /** the cluster's persistent agents as recorded (a watch on the registry keeps it current) */
  private readonly index = new Map<string, PersistentAgent>();
  private watcher: { stop(): void } | undefined;
  /** moves under way on this node, by agent id: concurrent messages wait for the same one */
  private readonly moving = new Map<string, Promise<string>>();

  constructor(
    private readonly nodeId: string,
    private readonly registry: KV,
    private readonly states: KV,
    private readonly local: RehomeLocal,
    /** is this node heartbeating now? */
    private readonly isAlive: (nodeId: string) => Promise<boolean>,
    private readonly log: (line: string) => void,
    /** the cluster key: state records are signed with it, and only signed ones are taken over */
    private readonly key?: string,
  ) {}

  /** Follows the registry, so a message can find a persistent agent whose node is down without a round trip. */
  async watch(): Promise<void> {
    const watch = await this.registry.watch();
    this.watcher = watch;
    void (async () => {
      for await (const entry of watch) {
        if (entry.operation !== 'PUT') {
          this.index.delete(entry.key);
          continue;
        }
        const parsed = PersistentAgent.safeParse(entry.json());
        if (parsed.success) this.index.set(entry.key, parsed.data);
      }
    })();
  }

  stop(): void {
    this.watcher?.stop();
  }

  /**
   * A persistent agent recorded in the cluster, by id or the name of exactly one (bootstrap
   * agents, which are never moved, left out): one a message may have to move or wait for.
   */
  recorded(ref: string): PersistentAgent | undefined {
    const movable = [...this.index.values()].filter((a) => !a.bootstrap);
    return movable.find((a) => a.id === ref) ?? single(movable.filter((a) => a.name === ref));
  }

  /**
   * A message for `agentId`, whose node is down (or, `unreachable`, did not answer: nobody
   * listens on its subjects): once that node's heartbeat has expired, takes the agent over
   * here; when another node won the race to take it over, waits until that node announces
   * it. Resolves with the node it lives on now; one move per agent at a time on this node.
   */
  moveForMessage(
    agentId: string,
    announcedOn: (agentId: string) => Promise<string | undefined>,
    opts: { waitMs: number; unreachable?: string },
  ): Promise<string> {
    let move = this.moving.get(agentId);
    if (!move) {
      move = this.move(agentId, announcedOn, opts).finally(() => this.moving.delete(agentId));
      this.moving.set(agentId, move);
    }
    return move;
  }

  private async move(
    agentId: string,
    announcedOn: (agentId: string) => Promise<string | undefined>,
    opts: { waitMs: number; unreachable?: string },
  ): Promise<string> {
    const end = Date.now() + opts.waitMs;
    let last: unknown;
    for (;;) {
      const entry = await this.registry.get(agentId);
      if (entry?.operation !== 'PUT')
        throw new AaosError(
          ErrorCode.AGENT_NOT_FOUND,
          `persistent agent ${agentId} is no longer recorded in the cluster`,
          { agent_id: agentId },
        );
      const agent = PersistentAgent.parse(entry.json());
      // its recorded home announces it (a node that did not answer is not believed)
      const there = await announcedOn(agentId);
      if (there !== undefined && there === agent.home && there !== opts.unreachable) return there;
      // a node is dead once its heartbeat expired; until then nothing is taken from it
      if (agent.home !== this.nodeId && !(await this.isAlive(agent.home))) {
        try {
          await this.takeOver(agent);
          return this.nodeId;
        } catch (err) {
          // another node won the race (or is winning it): look again; anything else is final
          if (!isAaosError(err, ErrorCode.CLUSTER_UNAVAILABLE)) throw err;
          last = err;
        }
      }
      if (Date.now() > end)
        throw new AaosError(
          ErrorCode.CLUSTER_UNAVAILABLE,
          `persistent agent ${agent.name} (${agentId}) could not be reached within ${opts.waitMs} ms: its record names node ${agent.home}${last ? ` (${toPlainError(last).message})` : ''}; try again`,
          { agent_id: agentId, node_id: agent.home },
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Copies the state of each persistent agent living here that changed since the last copy. */
  async copyStates(): Promise<void> {
    for (const p of this.local.persistentAgents()) {
      if (p.bootstrap) continue;
      const state = this.local.stateOf(p.id);
      const print = createHash('sha256').update(JSON.stringify(state)).digest('hex');
      if (this.copied.get(p.id) === print) continue;
      const memories = recentMemories(state.memories);
      if (memories.length < state.memories.length)
        this.log(
          `agentd: cluster: persistent agent ${p.name} (${p.id}): ${state.memories.length - memories.length} least recently used of its ${state.memories.length} memories are not copied (over ${MAX_MEMORY_BYTES} bytes); they stay on this node only`,
        );
      let history = state.history;
      let dropped = 0;
      let record = '';
      for (;;) {
        const rec: AgentState = {
          v: 1,
          agent_id: p.id,
          history,
          history_dropped: dropped,
          tokens: state.tokens,
          memories,
          memories_dropped: state.memories.length - memories.length,
          at: new Date().toISOString(),
        };
        record = this.seal(p.id, JSON.stringify(rec));
        if (Buffer.byteLength(record) <= MAX_STATE_BYTES || history.length === 0) break;
        // the oldest half goes first; what is kept is the recent conversation
        const cut = Math.max(1, Math.floor(history.length / 2));
        history = history.slice(cut);
        dropped += cut;
      }
      if (dropped > 0)
        this.log(
          `agentd: cluster: the history of persistent agent ${p.name} (${p.id}) is copied without its ${dropped} oldest entries (over ${MAX_STATE_BYTES} bytes)`,
        );
      await this.states.put(p.id, record);
      this.copied.set(p.id, print);
    }
  }

  /**
   * On joining: a persistent agent this node restored from its own store but that another
   * node took over while this one was down is dropped here (it lives there now).
   */
  async reconcile(): Promise<void> {
    for (const p of this.local.persistentAgents()) {
      const entry = await this.registry.get(p.id);
      if (entry?.operation !== 'PUT') continue;
      const rec = PersistentAgent.parse(entry.json());
      if (rec.home !== this.nodeId)
        await this.local.forget(p.id, `re-homed on node ${rec.home} while this node was down`);
    }
  }

  /** Takes over `agent`, whose node is down, onto this node with its copied state. */
  async takeOver(agent: PersistentAgent): Promise<void> {
    if (agent.bootstrap) {
      throw new AaosError(
        ErrorCode.CLUSTER_UNAVAILABLE,
        `agent ${agent.name} (${agent.id}) is the bootstrap agent of node ${agent.home}, which is down; it is not moved to another node`,
        {
          agent_id: agent.id,
          node_id: agent.home,
        },
      );
    }
    const entry = await this.registry.get(agent.id);
    if (entry?.operation !== 'PUT')
      throw new AaosError(
        ErrorCode.AGENT_NOT_FOUND,
        `persistent agent ${agent.id} is no longer recorded in the cluster`,
        { agent_id: agent.id },
      );
    const current = PersistentAgent.parse(entry.json());
    // another node took it over since this one looked (or its node is back)
    if (current.home !== agent.home || (await this.isAlive(current.home))) {
      throw new AaosError(
        ErrorCode.CLUSTER_UNAVAILABLE,
        `persistent agent ${agent.name} (${agent.id}) was taken over by another node (${current.home}) meanwhile; use it there`,
        {
          agent_id: agent.id,
          node_id: current.home,
        },
      );
    }
    const claimed: PersistentAgent = { ...current, home: this.nodeId };
    try {
      await this.registry.update(agent.id, JSON.stringify(claimed), entry.revision);
    } catch (err) {
      throw new AaosError(
        ErrorCode.CLUSTER_UNAVAILABLE,
        `persistent agent ${agent.name} (${agent.id}) is being taken over by another node; try again in a moment (${toPlainError(err).message})`,
        {
          agent_id: agent.id,
        },
      );
    }
    const stored = await this.states.get(agent.id);
    let state: AgentState | undefined;
    try {
      state =
        stored?.operation === 'PUT' ? AgentState.parse(JSON.parse(this.open(agent.id, stored.string()))) : undefined;
    } catch (err) {
      await this.registry.put(agent.id, JSON.stringify(current)).catch(() => {});
      throw err instanceof AaosError
        ? err
        : new AaosError(
            ErrorCode.CLUSTER_MESSAGE_REFUSED,
            `the copied state of persistent agent ${agent.name} (${agent.id}) is malformed (${toPlainError(err).message}); it is not taken over`,
            { agent_id: agent.id },
          );
    }
    try {
      await this.local.adopt(
        claimed,
        state ? { history: state.history, tokens: state.tokens, memories: state.memories } : undefined,
      );
    } catch (err) {
      // give it back: another node (or this one, later) may try again
      await this.registry.put(agent.id, JSON.stringify(current)).catch(() => {});
      throw err;
    }
    this.log(
      `agentd: cluster: took over persistent agent ${agent.name} (${agent.id}) from node ${current.home}, which is down${state ? ` (history: ${state.history.length} entries, memories: ${state.memories.length})` : ' (no state was copied)'}`,
    );
  }

  /** The stored text of an agent's state record: with the cluster key, `{body, mac}` (signed over the key and body). */
  private seal(agentId: string, body: string): string {
    return this.key ? JSON.stringify({ body, mac: recordMac(this.key, `state.${agentId}`, body) }) : body;
  }

  /** The state record's JSON text; with the cluster key only a record signed with it (else CLUSTER_MESSAGE_REFUSED). */
  private open(agentId: string, text: string): string {
    if (!this.key) return text;
    const wire = JSON.parse(text) as { body?: unknown; mac?: unknown };
    if (
      typeof wire.body !== 'string' ||
      typeof wire.mac !== 'string' ||
      !recordMacMatches(this.key, `state.${agentId}`, wire.body, wire.mac)
    )
      throw new AaosError(
        ErrorCode.CLUSTER_MESSAGE_REFUSED,
        `the copied state of persistent agent ${agentId} is refused: it is not signed with the cluster key (forged, altered, or moved from another agent); it is not taken over`,
        { agent_id: agentId },
      );
    return wire.body;
  }

  /** Forgets the copy of a stopped agent's state. */
  async drop(agentId: string): Promise<void> {
    this.copied.delete(agentId);
    await this.states.delete(agentId).catch(() => {});
  }
}

function single<T>(list: T[]): T | undefined {
  return list.length === 1 ? list[0] : undefined;
}

/** The most recently used memories whose copy fits MAX_MEMORY_BYTES. */
function recentMemories(all: CopiedMemory[]): CopiedMemory[] {
  const sorted = [...all].sort((a, b) => b.last_used_at.localeCompare(a.last_used_at));
  const out: CopiedMemory[] = [];
  let bytes = 0;
  for (const m of sorted) {
    bytes += JSON.stringify(m).length + 1;
    if (bytes > MAX_MEMORY_BYTES) break;
    out.push(m);
  }
  return out;
}
