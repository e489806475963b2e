import { z } from 'zod';
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
} as const;

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

/** What a node announces each heartbeat. */
export const NodeBeat = z.strictObject({
  node_id: z.string(),
  pid: z.int(),
  live_agents: z.int().min(0),
  free_goal_slots: z.int().min(0),
  goals_running: z.array(z.string()),
  load: z.number(),
  at: z.string(),
});
export type NodeBeat = z.infer<typeof NodeBeat>;
