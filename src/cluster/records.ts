import { z } from 'zod';
import { HistoryEntry } from '../context/history-entry.js';
import { MemoryCategory } from '../memory/memory-record.js';
import { CapabilityStateRecord } from '../store/capability-store.js';
import { RunRecord } from '../store/run-store.js';

/** Names of what the cluster keeps in JetStream (one place, so docs and code agree). */
export const CLUSTER_NAMES = {
  /** work-queue stream of submitted goals */
  stream: 'aaos-goals',
  subject: 'aaos.goals',
  /** the durable pull consumer every node takes goals from */
  consumer: 'aaos-goal-workers',
  /** node heartbeats (bucket TTL: a node that stops beating disappears) */
  nodes: 'aaos_nodes',
  /** the latest state of each cluster run, by run id */
  runs: 'aaos_runs',
  /** completions, by run id, written create-if-absent: the once-only record */
  done: 'aaos_done',
  /** operator revocations (and revoked tokens that were narrowed into another node), kept so a node that was down learns them */
  revocations: 'aaos_revocations',
  /** operator stops of agents, by agent id */
  stops: 'aaos_stops',
  /** persistent agents: their manifest and home node, so any node can find (and re-home) them */
  agents: 'aaos_agents',
  /** persistent agents' durable state (history, token states), so another node can take them over */
  agentState: 'aaos_agent_state',
  /** goal runs' journals as they run (keys `<run id>.head`, `<run id>.e.<seq>.<part>`), so another node resumes them */
  journals: 'aaos_journals',
} as const;

/** The subject one node answers control requests on (a revocation or stop it must apply now). */
export const controlSubject = (nodeId: string): string => `aaos.node.${nodeId}.control`;

/** Characters a JetStream key-value key (and one subject token) may hold. */
const KV_KEY = /^[-_=a-zA-Z0-9]+$/;
export function isKvKeyPart(s: string): boolean {
  return KV_KEY.test(s);
}

/** A goal as it sits in the work-queue stream. */
export const ClusterGoal = z.strictObject({
  run_id: z.uuid(),
  goal: z.string().trim().min(1),
  orchestration: z.enum(['direct', 'plan', 'auto']).optional(),
  submitted_on: z.string().min(1),
});
export type ClusterGoal = z.infer<typeof ClusterGoal>;

/** A run as every node sees it: the local run record's fields plus where it ran. */
export const ClusterRun = RunRecord.extend({
  submitted_on: z.string(),
  /** the node running (or that ran) it */
  node_id: z.string().optional(),
  /** how many times the stream handed it out (above 1: a node died or gave it back) */
  deliveries: z.int().min(0).optional(),
});
export type ClusterRun = z.infer<typeof ClusterRun>;

/** An agent as its node announces it: where each agent lives. */
export const AgentLocation = z.strictObject({
  id: z.string(),
  name: z.string(),
  lifecycle: z.string(),
  state: z.string(),
  parent_id: z.string().nullable(),
  /** the node's goal-taking agent (stopping it needs force) */
  bootstrap: z.boolean().optional(),
});
export type AgentLocation = z.infer<typeof AgentLocation>;

/** What a node announces each heartbeat. */
export const NodeBeat = z.strictObject({
  node_id: z.string(),
  pid: z.int(),
  live_agents: z.int().min(0),
  free_goal_slots: z.int().min(0),
  goals_running: z.array(z.string()),
  load: z.number(),
  at: z.string(),
  /** the agents that live on this node now */
  agents: z.array(AgentLocation).default([]),
  /** agents it may still spawn (AAOS_MAX_AGENTS minus live ones) */
  free_agent_slots: z.int().default(0),
  /** it takes children and envelopes from other nodes (it has the cluster key) */
  remote_agents: z.boolean().default(false),
});
export type NodeBeat = z.infer<typeof NodeBeat>;

/**
 * A revocation every node applies: one token (`token_id`), or all tokens of an agent
 * (`agent_id` without `token_id`). A node holding the token revokes it; every node
 * revokes what it holds that was narrowed from it (children spawned across nodes).
 */
export const RevocationRecord = z.strictObject({
  agent_id: z.string().optional(),
  token_id: z.string().optional(),
  reason: z.string(),
  at: z.string(),
  /** the node that recorded it */
  by: z.string(),
});
export type RevocationRecord = z.infer<typeof RevocationRecord>;

/** An agent stop every node applies (the node where the agent lives stops it). */
export const StopRecord = z.strictObject({
  agent_id: z.string(),
  reason: z.string(),
  at: z.string(),
  by: z.string(),
});
export type StopRecord = z.infer<typeof StopRecord>;

/** A persistent agent as the cluster keeps it: enough to start it again on another node. */
export const PersistentAgent = z.strictObject({
  id: z.string(),
  name: z.string(),
  /** the node it lives on */
  home: z.string(),
  manifest_yaml: z.string(),
  manifest_path: z.string().optional(),
  created_at: z.string(),
  /** its node's goal-taking agent: never re-homed (each node has its own) */
  bootstrap: z.boolean().optional(),
});
export type PersistentAgent = z.infer<typeof PersistentAgent>;

/** What a node answers a control request with. */
export const ControlReply = z.union([
  z.strictObject({ ok: z.literal(true), revoked: z.int().min(0), node_id: z.string() }),
  z.strictObject({ ok: z.literal(false), error: z.strictObject({ code: z.string(), message: z.string() }) }),
]);
export type ControlReply = z.infer<typeof ControlReply>;

/** An episodic memory as it moves with its agent: its text (the taking node embeds it again, in its own vector space). */
export const CopiedMemory = z.strictObject({
  content: z.string(),
  category: MemoryCategory,
  created_at: z.string(),
  last_used_at: z.string(),
});
export type CopiedMemory = z.infer<typeof CopiedMemory>;

/** What a persistent agent needs on another node: its conversation history, its tokens' durable states, its memories. */
export const AgentState = z.strictObject({
  v: z.literal(1),
  agent_id: z.string(),
  history: z.array(HistoryEntry),
  /** history entries left out because the whole did not fit one record (oldest first) */
  history_dropped: z.int().min(0),
  tokens: CapabilityStateRecord.shape.tokens,
  /** its episodic memories, most recently used first, as many as fit the memory share of the record */
  memories: z.array(CopiedMemory).default([]),
  /** memories left out (the least recently used) */
  memories_dropped: z.int().min(0).default(0),
  at: z.string(),
});
export type AgentState = z.infer<typeof AgentState>;

/** Who holds a run's journal copy now: each node that takes the run raises the epoch (compare-and-set). */
export const JournalHead = z.strictObject({
  v: z.literal(1),
  run_id: z.string(),
  epoch: z.int().min(1),
  node_id: z.string(),
  at: z.string(),
});
export type JournalHead = z.infer<typeof JournalHead>;

/**
 * One piece of one journal entry (an entry over the part size is split): `data` is base64
 * of the entry's JSON bytes. Stored as `{body, mac?}`: `body` its JSON text, `mac` (with the
 * cluster key) the signature of the key and the body.
 */
export const JournalPart = z.strictObject({
  v: z.literal(1),
  run_id: z.string(),
  seq: z.int().min(0),
  part: z.int().min(0),
  parts: z.int().min(1),
  /** the head epoch of the node that wrote it: a lower one than the entries before it is a stale node's */
  epoch: z.int().min(1),
  node_id: z.string(),
  data: z.string(),
});
export type JournalPart = z.infer<typeof JournalPart>;
