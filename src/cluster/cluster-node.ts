import { randomUUID } from 'node:crypto';
import { hostname, loadavg } from 'node:os';
import {
  AckPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JsMsg,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { AaosError, ErrorCode, toPlainError } from '../errors/index.js';
import type { Orchestration } from '../orchestration/orchestrator.js';
import type { GoalHandle, GoalRunner } from '../runs/goal-runner.js';
import type { RunRecord } from '../store/run-store.js';
import { ClusterControl, type LocalControl } from './control.js';
import { type ClaimedJournal, JournalMirror, type LocalJournal } from './journal-mirror.js';
import { type OperatorRequest, RemoteAgents, type RemoteAgentsOptions } from './remote-agents.js';
import { Rehoming, type RehomeLocal } from './rehome.js';
import { signRecord } from './signed.js';
import {
  agentRecordName,
  type AgentLocation,
  CLUSTER_NAMES,
  isKvKeyPart,
  ClusterGoal,
  ClusterRun,
  NodeBeat,
  PersistentAgent,
} from './records.js';

export interface ClusterOptions {
  url: string;
  nodeId?: string;
  ackWaitMs: number;
  heartbeatMs: number;
  maxConcurrentGoals: number;
  goals: GoalRunner;
  /** this node's own record of a run, if it has one */
  localRun: (runId: string) => RunRecord | undefined;
  liveAgents: () => number;
  /** what this node applies when a revocation or stop reaches it, and what it announces */
  local: LocalControl & {
    /** the agents that live here now */
    agents(): AgentLocation[];
    /** agents this node may still spawn */
    freeAgentSlots(): number;
    /** this node's run journal: goal runs taken from the queue are copied to the cluster as they run */
    journal: LocalJournal;
  } & RehomeLocal;
  log: (line: string) => void;
  /** with the cluster key: children placed on other nodes, envelopes to agents there */
  remoteAgents?: Omit<RemoteAgentsOptions, 'publishRevoked' | 'isRevoked' | 'homeless' | 'log'>;
}

/** Where an agent lives: announced by a live node, or recorded as a persistent agent whose node is down. */
export type AgentPlace =
  | { node_id: string; alive: true; agent: AgentLocation }
  | { node_id: string; alive: false; agent: PersistentAgent };

export interface ClusterStatus {
  node_id: string;
  nodes: NodeBeat[];
  goals_waiting: number;
  goals_in_flight: number;
  /** every agent of the cluster with the node it lives on; persistent agents of a node that is down with alive false */
  agents: Array<AgentLocation & { node_id: string; alive: boolean }>;
}

const JOURNAL_COPY_TTL_MS = 7 * 86_400_000;
const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'interrupted']);
/** After its store refused a run (a full disk), a node takes no goal for this long. */
const STORE_PAUSE_MS = 10_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * One supervisor process as a member of a NATS JetStream cluster: it stores goals in
 * the shared work queue, takes goals while it has free slots, runs them on its own
 * goal runner, and records each completion once (create-if-absent on the run id).
 */
export class ClusterNode {
  private closing = false;
  /** no goal is taken before this time (the store refused a run) */
  private pausedUntil = 0;
  /** goals this node took from the stream and has not acked yet */
  private readonly inflight = new Map<string, JsMsg>();
  private beatTimer: NodeJS.Timeout | undefined;
  /** a heartbeat under way: the next tick is skipped rather than piled beside it on a loaded machine */
  private beating = false;
  private pulling: Promise<void> | undefined;
  /** persistent agents this node recorded as living here (id -> manifest text) */
  private readonly registered = new Map<string, string>();
  /** revocations and agent stops that reach every node */
  readonly control: ClusterControl;
  /** agents across nodes (only with the cluster key) */
  private remote: RemoteAgents | undefined;
  /** persistent agents outlive this node */
  private readonly rehoming: Rehoming;
  /** goal runs outlive this node: their journals, copied as they run */
  private readonly journals: JournalMirror;

  private constructor(
    readonly nodeId: string,
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly nodes: KV,
    private readonly runs: KV,
    private readonly done: KV,
    private readonly persistent: KV,
    buckets: { revocations: KV; stops: KV; agentState: KV; journals: KV },
    private readonly opts: ClusterOptions,
  ) {
    this.control = new ClusterControl(
      nodeId,
      nc,
      buckets.revocations,
      buckets.stops,
      this.controlHooks(opts),
      opts.log,
    );
    this.rehoming = new Rehoming(
      nodeId,
      persistent,
      buckets.agentState,
      opts.local,
      async (id) => (await this.liveNodes()).some((b) => b.node_id === id),
      opts.log,
      opts.remoteAgents?.key,
    );
    this.journals = new JournalMirror(
      nodeId,
      buckets.journals,
      async (runId) => {
        const jsm = await jetstreamManager(nc);
        await jsm.streams.purge(`KV_${CLUSTER_NAMES.journals}`, {
          filter: `$KV.${CLUSTER_NAMES.journals}.${runId}.>`,
        });
      },
      {
        ...(opts.remoteAgents ? { key: opts.remoteAgents.key } : {}),
        maxPayload: nc.info?.max_payload ?? 1024 * 1024,
        log: opts.log,
      },
    );
    this.journals.attach(opts.local.journal);
  }

  /** A stop applied here also drops the agent's cluster record (it is not restored or re-homed anywhere). */
  private controlHooks(opts: ClusterOptions): LocalControl {
    return {
      revokeToken: (id, reason, agentId) => opts.local.revokeToken(id, reason, agentId),
      revokeAll: (id, reason) => opts.local.revokeAll(id, reason),
      stopAgent: async (id, reason) => {
        const stopped = await opts.local.stopAgent(id, reason);
        if (stopped || this.registered.has(id)) {
          this.registered.delete(id);
          await this.persistent.delete(id).catch(() => {});
          await this.rehoming.drop(id);
        }
        return stopped;
      },
    };
  }

  static async join(opts: ClusterOptions): Promise<ClusterNode> {
    const nodeId = opts.nodeId ?? `${hostname()}-${randomUUID().slice(0, 8)}`;
    let nc: NatsConnection;
    try {
      nc = await connect({ servers: opts.url, name: `aaos-${nodeId}`, timeout: 5000, maxReconnectAttempts: -1 });
    } catch (err) {
      throw new AaosError(
        ErrorCode.CLUSTER_UNAVAILABLE,
        `cannot reach the cluster's NATS server at ${opts.url}: ${toPlainError(err).message}`,
        { url: opts.url },
      );
    }
    try {
      const jsm = await jetstreamManager(nc);
      await ensure(() =>
        jsm.streams.add({
          name: CLUSTER_NAMES.stream,
          subjects: [CLUSTER_NAMES.subject],
          retention: RetentionPolicy.Workqueue,
          storage: StorageType.File,
          duplicate_window: nanos(120_000),
        }),
      );
      await ensure(() =>
        jsm.consumers.add(CLUSTER_NAMES.stream, {
          durable_name: CLUSTER_NAMES.consumer,
          ack_policy: AckPolicy.Explicit,
          ack_wait: nanos(opts.ackWaitMs),
          max_deliver: -1,
        }),
      );
      const js = jetstream(nc);
      const kvm = new Kvm(js);
      const nodes = await kvm.create(CLUSTER_NAMES.nodes, { ttl: opts.heartbeatMs * 3, history: 1 });
      const runs = await kvm.create(CLUSTER_NAMES.runs, { history: 1 });
      const done = await kvm.create(CLUSTER_NAMES.done, { history: 1 });
      const persistent = await kvm.create(CLUSTER_NAMES.agents, { history: 1 });
      const revocations = await kvm.create(CLUSTER_NAMES.revocations, { history: 1 });
      const stops = await kvm.create(CLUSTER_NAMES.stops, { history: 1 });
      const agentState = await kvm.create(CLUSTER_NAMES.agentState, { history: 1 });
      // a copy outlives no run by much: purged when the run is recorded, expired after a week otherwise
      const journals = await kvm.create(CLUSTER_NAMES.journals, { history: 1, ttl: JOURNAL_COPY_TTL_MS });
      const node = new ClusterNode(
        nodeId,
        nc,
        js,
        nodes,
        runs,
        done,
        persistent,
        { revocations, stops, agentState, journals },
        opts,
      );
      await node.control.start();
      // before announcing its persistent agents: drop those another node took over meanwhile
      await node.rehoming.reconcile();
      await node.rehoming.watch();
      if (opts.remoteAgents) {
        const remote = new RemoteAgents(nodeId, nc, {
          ...opts.remoteAgents,
          publishRevoked: (id, reason) => node.control.revokedHere(id, reason),
          isRevoked: (id) => node.control.isRevoked(id),
          homeless: {
            find: (ref) => {
              const agent = node.rehoming.recorded(ref);
              return agent ? { id: agent.id, name: agent.name } : undefined;
            },
            move: (agentId, unreachable) => node.moveForMessage(agentId, unreachable),
          },
          log: opts.log,
        });
        remote.start();
        node.remote = remote;
        opts.remoteAgents.supervisor.attachRemote(remote);
      }
      await node.beat();
      node.beatTimer = setInterval(() => {
        if (node.beating) return;
        node.beating = true;
        void node
          .beat()
          .catch((e: unknown) => opts.log(`agentd: cluster heartbeat failed: ${toPlainError(e).message}`))
          .finally(() => {
            node.beating = false;
          });
      }, opts.heartbeatMs);
      node.pulling = node.pull();
      return node;
    } catch (err) {
      await nc.close().catch(() => {});
      if (err instanceof AaosError) throw err;
      throw new AaosError(
        ErrorCode.CLUSTER_UNAVAILABLE,
        `the NATS server at ${opts.url} refused the cluster's JetStream setup (is it started with -js?): ${toPlainError(err).message}`,
        { url: opts.url },
      );
    }
  }

  /** Stores the goal in the work queue; returns once JetStream confirmed it is stored. */
  async submit(goal: string, options: { orchestration?: Orchestration } = {}): Promise<ClusterRun> {
    const text = goal.trim();
    if (!text) throw new AaosError(ErrorCode.TOOL_INPUT_INVALID, 'a goal must not be empty', { field: 'goal' });
    if (this.closing)
      throw new AaosError(ErrorCode.SHUTTING_DOWN, 'this node is leaving the cluster and takes no new goals');
    const orchestration = options.orchestration;
    const msg: ClusterGoal = {
      run_id: randomUUID(),
      goal: text,
      submitted_on: this.nodeId,
      ...(orchestration ? { orchestration } : {}),
    };
    const record: ClusterRun = {
      v: 1,
      run_id: msg.run_id,
      goal: text,
      agent_id: '',
      workspace: '',
      state: 'queued',
      created_at: new Date().toISOString(),
      submitted_on: this.nodeId,
      ...(orchestration ? { orchestration } : {}),
    };
    try {
      await this.runs.put(msg.run_id, JSON.stringify(record));
      // msgID: a retried publish of the same goal is dropped by the stream's duplicate window
      await this.js.publish(CLUSTER_NAMES.subject, JSON.stringify(msg), { msgID: msg.run_id });
    } catch (err) {
      await this.runs.delete(msg.run_id).catch(() => {});
      throw new AaosError(
        ErrorCode.CLUSTER_UNAVAILABLE,
        `the goal was not stored in the cluster's work queue: ${toPlainError(err).message}`,
        { run_id: msg.run_id },
      );
    }
    return record;
  }

  /** A cluster run by id: the completion record if there is one, else the latest state. */
  async get(runId: string): Promise<ClusterRun | undefined> {
    const entry = (await this.done.get(runId)) ?? (await this.runs.get(runId));
    if (entry?.operation !== 'PUT') return undefined;
    return ClusterRun.parse(entry.json());
  }

  async list(limit: number): Promise<ClusterRun[]> {
    const out: ClusterRun[] = [];
    for await (const key of await uniqueKeys(this.runs)) {
      const rec = await this.get(key);
      if (rec) out.push(rec);
    }
    out.sort((a, b) => b.created_at.localeCompare(a.created_at));
    return out.slice(0, limit);
  }

  /** Resolves with the run's completion record once some node records it. */
  async whenDone(runId: string): Promise<ClusterRun | undefined> {
    const watch = await this.done.watch({ key: runId });
    try {
      for await (const entry of watch) {
        if (entry.operation === 'PUT') return ClusterRun.parse(entry.json());
      }
      return undefined;
    } finally {
      watch.stop();
    }
  }

  async status(): Promise<ClusterStatus> {
    const nodes = await this.liveNodes();
    nodes.sort((a, b) => a.node_id.localeCompare(b.node_id));
    const jsm = await jetstreamManager(this.nc);
    const info = await jsm.consumers.info(CLUSTER_NAMES.stream, CLUSTER_NAMES.consumer);
    const agents: ClusterStatus['agents'] = nodes.flatMap((n) =>
      n.agents.map((a) => ({ ...a, node_id: n.node_id, alive: true })),
    );
    const seen = new Set(agents.map((a) => a.id));
    for (const p of await this.persistentAgents()) {
      if (!seen.has(p.id))
        agents.push({
          id: p.id,
          name: p.name,
          lifecycle: 'persistent',
          state: 'node down',
          parent_id: null,
          node_id: p.home,
          alive: false,
        });
    }
    return {
      node_id: this.nodeId,
      nodes,
      goals_waiting: info.num_pending,
      goals_in_flight: info.num_ack_pending,
      agents,
    };
  }

  /** The nodes alive now (by heartbeat). */
  async liveNodes(): Promise<NodeBeat[]> {
    const out: NodeBeat[] = [];
    for await (const key of await uniqueKeys(this.nodes)) {
      const entry = await this.nodes.get(key);
      if (entry && entry.operation === 'PUT') out.push(NodeBeat.parse(entry.json()));
    }
    return out;
  }

  private async persistentAgents(): Promise<PersistentAgent[]> {
    const out: PersistentAgent[] = [];
    for await (const key of await uniqueKeys(this.persistent)) {
      const entry = await this.persistent.get(key);
      if (entry && entry.operation === 'PUT') out.push(PersistentAgent.parse(entry.json()));
    }
    return out;
  }

  /**
   * Where the agent named by `ref` (id, the name of exactly one agent, or a unique id
   * prefix) lives in the cluster; undefined when no node announces it and no persistent
   * agent has that id.
   */
  async locate(ref: string): Promise<AgentPlace | undefined> {
    const all = (await this.liveNodes()).flatMap((n) =>
      n.agents.map((agent) => ({ node_id: n.node_id, alive: true as const, agent })),
    );
    const exact = all.find((p) => p.agent.id === ref);
    if (exact) return exact;
    const named = all.filter((p) => p.agent.name === ref);
    if (named.length > 1) {
      throw new AaosError(
        ErrorCode.ID_AMBIGUOUS,
        `'${ref}' names ${named.length} agents in the cluster: ${named.map((p) => `${p.agent.id} on ${p.node_id}`).join(', ')}; use an id`,
        { agent_id: ref },
      );
    }
    if (named.length === 1) return named[0];
    const prefixed = all.filter((p) => p.agent.id.startsWith(ref));
    if (prefixed.length === 1) return prefixed[0];
    const entry = isKvKeyPart(ref) ? await this.persistent.get(ref) : null;
    if (entry && entry.operation === 'PUT') {
      const agent = PersistentAgent.parse(entry.json());
      return { node_id: agent.home, alive: false, agent };
    }
    return undefined;
  }

  /**
   * Leave: stop taking goals, hand the unfinished ones back to the stream at once (nak)
   * so another node starts them without waiting out the ack wait, remove the heartbeat.
   */
  async leave(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.beatTimer);
    this.control.stop();
    this.rehoming.stop();
    this.remote?.stop();
    // the next node resumes from the copy: let the puts under way land first
    await this.journals.release(5000);
    for (const msg of this.inflight.values()) msg.nak();
    this.inflight.clear();
    await this.pulling;
    await this.nodes.delete(this.nodeId).catch(() => {});
    await this.nc.drain().catch(() => {});
  }

  private freeSlots(): number {
    if (!this.opts.goals.agent) return 0; // no bootstrap agent: this node only submits
    if (Date.now() < this.pausedUntil) return 0; // its store refused a run just now
    const busy = Math.max(this.inflight.size, this.opts.goals.running + this.opts.goals.waiting);
    return Math.max(0, this.opts.maxConcurrentGoals - busy);
  }

  private async beat(): Promise<void> {
    const beat: NodeBeat = {
      node_id: this.nodeId,
      pid: process.pid,
      live_agents: this.opts.liveAgents(),
      free_goal_slots: this.freeSlots(),
      goals_running: [...this.inflight.keys()],
      load: loadavg()[0] ?? 0,
      at: new Date().toISOString(),
      agents: this.opts.local.agents(),
      free_agent_slots: this.opts.local.freeAgentSlots(),
      remote_agents: this.remote !== undefined,
    };
    // recorded before announced: an agent any node has seen alive in a heartbeat can be
    // found in aaos_agents once this node dies (a kill between the two lost it before)
    await this.registerPersistent();
    await this.nodes.put(this.nodeId, JSON.stringify(beat));
    if (this.remote) this.remote.onBeats(await this.liveNodes());
    await this.rehoming.copyStates();
  }

  /**
   * The id of the agent `ref` names, for running it on this node: it lives here, or it is a
   * persistent agent whose node is down, which this node then takes over with its state.
   * Undefined when the cluster knows no such agent.
   */
  async useAgent(ref: string): Promise<string | undefined> {
    const place = await this.locate(ref);
    if (!place) return undefined;
    if (place.alive && place.node_id === this.nodeId) return place.agent.id;
    if (place.alive) {
      throw new AaosError(
        ErrorCode.AGENT_NOT_FOUND,
        `agent ${place.agent.name} (${place.agent.id}) lives on node ${place.node_id}: use it there`,
        { agent_id: place.agent.id, node_id: place.node_id },
      );
    }
    const home = await this.moveForMessage(place.agent.id);
    if (home === this.nodeId) return place.agent.id;
    // two nodes raced to take it over and the other won
    throw new AaosError(
      ErrorCode.AGENT_NOT_FOUND,
      `agent ${place.agent.name} (${place.agent.id}) was just taken over by node ${home}: use it there`,
      { agent_id: place.agent.id, node_id: home },
    );
  }

  /**
   * A message for a persistent agent whose node is down: this node takes it over, or finds
   * the node that won the race (once it announces the agent). The node it lives on now.
   */
  moveForMessage(agentId: string, unreachable?: string): Promise<string> {
    return this.rehoming.moveForMessage(
      agentId,
      async (id) => {
        if (this.opts.local.agents().some((a) => a.id === id)) return this.nodeId;
        return (await this.liveNodes()).find((n) => n.agents.some((a) => a.id === id))?.node_id;
      },
      // a dead node's heartbeat expires after 3 beats; the winner of a race announces the agent at its next beat
      { waitMs: this.opts.heartbeatMs * 6 + 30_000, ...(unreachable ? { unreachable } : {}) },
    );
  }

  /**
   * An operator's `tool.invoke` or `capability.list` (`request.agent_id`: as the operator
   * named it) for an agent that does not live here: forwarded, signed, to the node it lives on,
   * which authorises and audits it. A persistent agent whose node is down is moved first by a
   * tool call (a use, like a message), not by a listing. Without the cluster key the answer is
   * an error naming the agent's node. Undefined when the agent lives here.
   */
  async onAgentsNode(
    request: OperatorRequest,
  ): Promise<{ agent_id: string; node_id: string; value: unknown } | undefined> {
    const place = await this.locate(request.agent_id);
    if (!place)
      throw new AaosError(
        ErrorCode.AGENT_NOT_FOUND,
        `no agent with id, name or id prefix '${request.agent_id}' in the cluster`,
        {
          agent_id: request.agent_id,
        },
      );
    const agentId = place.agent.id;
    let node = place.node_id;
    if (!place.alive) {
      if (request.op === 'capability.list')
        throw new AaosError(
          ErrorCode.CLUSTER_UNAVAILABLE,
          `agent ${place.agent.name} (${agentId}) lives on node ${node}, which is down; its tokens can be listed once a message or agentd run moved it to a live node`,
          { agent_id: agentId, node_id: node },
        );
      node = await this.moveForMessage(agentId);
    }
    const forwarded = { ...request, agent_id: agentId };
    if (node === this.nodeId) return undefined; // it lives here (now): the caller serves it
    if (!this.remote)
      throw new AaosError(
        ErrorCode.AGENT_NOT_FOUND,
        `agent ${place.agent.name} (${agentId}) lives on node ${node}, and this node has no AAOS_CLUSTER_KEY to forward ${request.op} there: use that node's socket`,
        { agent_id: agentId, node_id: node },
      );
    return { agent_id: agentId, node_id: node, value: await this.remote.operator(node, forwarded) };
  }

  /** Records the persistent agents living here in the cluster, so they can be found (and stopped) while this node is down. */
  private async registerPersistent(): Promise<void> {
    for (const p of this.opts.local.persistentAgents()) {
      if (this.registered.get(p.id) === p.manifest_yaml || !isKvKeyPart(p.id)) continue;
      const record: PersistentAgent = { ...p, home: this.nodeId };
      await this.persistent.put(p.id, signRecord(this.opts.remoteAgents?.key, agentRecordName(p.id), record));
      this.registered.set(p.id, p.manifest_yaml);
      // stopped while the record was on its way: the stop's delete may have come first
      if (!this.opts.local.persistentAgents().some((a) => a.id === p.id)) {
        this.registered.delete(p.id);
        await this.persistent.delete(p.id);
      }
    }
  }

  /** Takes one goal at a time while this node has a free slot. */
  private async pull(): Promise<void> {
    const consumer = await this.js.consumers.get(CLUSTER_NAMES.stream, CLUSTER_NAMES.consumer);
    while (!this.closing) {
      if (this.freeSlots() === 0) {
        await sleep(100);
        continue;
      }
      let msg: JsMsg | null;
      try {
        msg = await consumer.next({ expires: 1000 });
      } catch (err) {
        if (this.closing) return;
        this.opts.log(`agentd: cluster: taking a goal failed: ${toPlainError(err).message}`);
        await sleep(500);
        continue;
      }
      if (!msg) continue;
      if (this.closing) {
        msg.nak();
        return;
      }
      await this.take(msg);
    }
  }

  /** Checks a delivered goal and starts it; its end is handled by `finish` (not awaited). */
  private async take(msg: JsMsg): Promise<void> {
    let goal: ClusterGoal;
    try {
      goal = ClusterGoal.parse(msg.json());
    } catch (err) {
      // a malformed entry would be redelivered forever: drop it, say where
      this.opts.log(
        `agentd: cluster: dropped malformed goal at stream sequence ${msg.seq}: ${toPlainError(err).message}`,
      );
      msg.term();
      return;
    }
    if (await this.done.get(goal.run_id)) {
      // redelivered after its completion was recorded (the finishing node died before acking)
      msg.ack();
      await this.journals.finish(goal.run_id);
      return;
    }
    this.inflight.set(goal.run_id, msg);
    let claimed: ClaimedJournal;
    try {
      claimed = await this.journals.claim(goal.run_id);
    } catch (err) {
      // without the copy the run can still run: from this node's own journal, else from its text
      this.opts.log(`agentd: cluster: run ${goal.run_id}: ${toPlainError(err).message}`);
      claimed = { epoch: 0, entries: [] };
    }
    const previous = await this.get(goal.run_id);
    const base: ClusterRun = previous ?? {
      v: 1,
      run_id: goal.run_id,
      goal: goal.goal,
      agent_id: '',
      workspace: '',
      state: 'queued',
      created_at: new Date().toISOString(),
      submitted_on: goal.submitted_on,
    };
    let handle;
    try {
      handle = this.localHandle(goal, claimed);
    } catch (err) {
      this.inflight.delete(goal.run_id);
      const plain = toPlainError(err);
      if (plain.code === ErrorCode.SHUTTING_DOWN || plain.code === ErrorCode.AGENT_NOT_FOUND) {
        msg.nak(); // another node can run it
        return;
      }
      if (plain.code === ErrorCode.STORE || plain.code === ErrorCode.STORE_DEGRADED) {
        // this node's disk, not the goal: a node with room runs it; this one takes none for a while
        this.opts.log(
          `agentd: cluster: run ${goal.run_id} goes back to the queue: this node cannot store it (${plain.message}); it takes no goal for ${STORE_PAUSE_MS / 1000} s`,
        );
        this.pausedUntil = Date.now() + STORE_PAUSE_MS;
        msg.nak(STORE_PAUSE_MS / 2);
        return;
      }
      await this.record(msg, {
        ...base,
        state: 'failed',
        node_id: this.nodeId,
        ended_at: new Date().toISOString(),
        error: { code: plain.code, message: plain.message },
      });
      return;
    }
    await this.runs.put(
      goal.run_id,
      JSON.stringify({
        ...base,
        state: 'running',
        node_id: this.nodeId,
        agent_id: this.opts.goals.agent ?? '',
        workspace: handle.workspace,
        started_at: new Date().toISOString(),
        deliveries: msg.info.deliveryCount,
      } satisfies ClusterRun),
    );
    if (claimed.epoch > 0) {
      const local = this.opts.local.journal.load(goal.run_id);
      this.journals.track(goal.run_id, claimed.epoch, local, Math.min(claimed.entries.length, local.length));
    }
    // progress: each call restarts the ack wait, so only a silent (dead) node loses the goal
    const progress = setInterval(() => msg.working(), Math.max(200, Math.floor(this.opts.ackWaitMs / 3)));
    void handle.done.then(async (local) => {
      clearInterval(progress);
      if (this.closing || !TERMINAL.has(local.state)) return; // handed back by leave()
      this.inflight.delete(goal.run_id);
      const { v: _v, ...fields } = local;
      await this.record(msg, {
        ...base,
        ...fields,
        v: 1,
        submitted_on: base.submitted_on,
        node_id: this.nodeId,
        deliveries: msg.info.deliveryCount,
      });
    });
  }

  /**
   * The local run of a delivered goal. A goal another node ran before (it died, or handed
   * the goal back) continues from the journal copy it left in the cluster; a goal this node
   * met before (it handed it back on leaving, or held it when it crashed, and restarted on
   * the same data dir) continues from the local journal, or from the copy when that went
   * further (another node ran it meanwhile).
   */
  private localHandle(goal: ClusterGoal, claimed: ClaimedJournal): GoalHandle {
    const goals = this.opts.goals;
    const journal = this.opts.local.journal;
    const known = goals.whenDone(goal.run_id);
    const local = this.opts.localRun(goal.run_id);
    if (known && local) return { run_id: goal.run_id, workspace: local.workspace, done: known };
    // it ended here but the node died before recording it: record that result
    if (local && TERMINAL.has(local.state))
      return { run_id: goal.run_id, workspace: local.workspace, done: Promise.resolve(local) };
    if (local) {
      if (claimed.entries.length > journal.load(goal.run_id).length) journal.replace(goal.run_id, claimed.entries);
      return goals.resume(local);
    }
    const resume = claimed.entries.length > 0;
    if (resume) {
      journal.replace(goal.run_id, claimed.entries);
      this.opts.log(
        `agentd: cluster: run ${goal.run_id} resumes from ${claimed.entries.length} journal entries of node ${claimed.from ?? '?'}`,
      );
    }
    try {
      return goals.submit(goal.goal, {
        runId: goal.run_id,
        ...(goal.orchestration ? { orchestration: goal.orchestration } : {}),
        ...(resume ? { resume: true } : {}),
      });
    } catch (err) {
      if (resume) journal.replace(goal.run_id, []);
      throw err;
    }
  }

  /** Records the completion once, then acks (a recorded completion is never overwritten). */
  private async record(msg: JsMsg, final: ClusterRun): Promise<void> {
    try {
      await this.done.create(final.run_id, JSON.stringify(final));
      await this.runs.put(final.run_id, JSON.stringify(final));
    } catch (err) {
      if ((await this.done.get(final.run_id).catch(() => null)) === null) {
        // not recorded: leave the goal unacked so it is redelivered
        this.opts.log(`agentd: cluster: could not record run ${final.run_id}: ${toPlainError(err).message}`);
        msg.nak(5000);
        return;
      }
      this.opts.log(
        `agentd: cluster: run ${final.run_id} was already recorded complete by another node; this result is dropped`,
      );
    }
    msg.ack();
    await this.journals.finish(final.run_id);
  }
}

/** Stream/consumer creation is idempotent for the same config; a differing one already there is kept. */
async function ensure(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (!/already in use|already exists/i.test(toPlainError(err).message)) throw err;
  }
}

/**
 * A bucket's keys, each once. The key lister is a live consumer: a heartbeat written while it
 * runs is delivered again, and `cluster status` once listed one node twice.
 */
async function uniqueKeys(bucket: KV): Promise<Set<string>> {
  const keys = new Set<string>();
  for await (const key of await bucket.keys()) keys.add(key);
  return keys;
}
