import { ambiguous, byIdPrefix } from './id-resolve.js';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ApprovalResponse } from '../approvals/approval-queue.js';
import type { AuditEvent } from '../audit/event.js';
import type { ClusterNode } from '../cluster/cluster-node.js';
import { revokeInCluster, stopInCluster } from '../cluster/operator.js';
import type { OperatorRequest } from '../cluster/remote-agents.js';
import { AaosError, ErrorCode } from '../errors/index.js';
import type { AgentInfo } from '../kernel/agent-table.js';
import { runSummary } from '../protocol/run-summary.js';
import type { Runtime } from '../runtime/runtime.js';
import { RunState, type RunRecord } from '../store/run-store.js';
import type { Connection } from './connection.js';
import { parseParams, type RpcId } from './jsonrpc.js';
import { endFrameForRun, FrameStream, followApprovals, isTerminalRun, replayAndFollow } from './streams.js';

/** What every handler can reach: the runtime and the daemon's own state. */
export interface DaemonContext {
  runtime: Runtime;
  /** the cluster this daemon joined (`agentd run --cluster`): goals, stops and revocations then go through it */
  cluster(): ClusterNode | undefined;
  /** epoch ms */
  startedAt: number;
  version: string;
  /** true once shutdown began: methods that start work are refused */
  draining(): boolean;
  /** open client connections (for system.health) */
  connections(): number;
  /** connections refused because the cap was reached, since start */
  connectionsRefused(): number;
}

export interface CallContext {
  daemon: DaemonContext;
  conn: Connection;
  /** undefined for a notification (no response is sent) */
  id: RpcId | undefined;
  /** streaming methods: run `fn` right after the response line is written */
  afterResponse(fn: () => void): void;
}

export interface MethodSpec {
  /** read-only methods are still served while the daemon drains */
  readOnly: boolean;
  handle(params: unknown, ctx: CallContext): unknown;
}

// ── param schemas (the schema and its type share a name) ─────────────────────

const AgentId = z.string().min(1, 'must not be empty');
const ManifestSource = {
  manifest: z.string().min(1).optional(),
  manifest_path: z.string().min(1).optional(),
};
const oneManifest = (p: { manifest?: string | undefined; manifest_path?: string | undefined }): boolean =>
  (p.manifest === undefined) !== (p.manifest_path === undefined);
const ONE_MANIFEST = { message: 'give exactly one of manifest (YAML text) or manifest_path', path: ['manifest'] };

const NoParams = z.union([z.object({}), z.array(z.unknown()).length(0), z.null()]);
const AgentSpawnParams = z.object(ManifestSource).refine(oneManifest, ONE_MANIFEST);
const AgentIdParams = z.object({ agent_id: AgentId });
const AgentStopParams = z.object({ agent_id: AgentId, force: z.boolean().optional() });
const AgentPauseParams = AgentStopParams;
const AgentRunParams = z.object({ agent_id: AgentId, message: z.string().min(1, 'must not be empty') });
const SpawnAndRunParams = z
  .object({ ...ManifestSource, message: z.string().min(1, 'must not be empty') })
  .refine(oneManifest, ONE_MANIFEST);
export const SubmitParams = z.object({
  goal: z.string().trim().min(1, 'must not be empty'),
  /** direct | plan | auto (aaOS's `persistent` means direct); absent: AAOS_ORCHESTRATION */
  orchestration: z
    .enum(['direct', 'plan', 'auto', 'persistent'])
    .transform((m) => (m === 'persistent' ? 'direct' : m))
    .optional(),
});
export type SubmitParams = z.infer<typeof SubmitParams>;
const LogsParams = z
  .object({
    agent_id: AgentId.optional(),
    run_id: z.string().min(1).optional(),
    follow: z.boolean().optional(),
    /** replay only the last N stored events (live ones still follow) */
    tail: z.number().int().min(0).optional(),
    /** replay and forward only events at or after this ISO time */
    since: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((p) => (p.agent_id === undefined) !== (p.run_id === undefined), {
    message: 'give exactly one of agent_id or run_id',
    path: ['run_id'],
  });
type LogsParams = z.infer<typeof LogsParams>;
const RunListParams = z.union([
  z.object({ state: RunState.optional(), limit: z.number().int().positive().max(10_000).optional() }),
  z.null(),
]);
const RunIdParams = z.object({ run_id: z.string().min(1, 'must not be empty') });
const ToolInvokeParams = z.object({
  agent_id: AgentId,
  tool: z.string().min(1),
  input: z.record(z.string(), z.unknown()).default({}),
});
const RevokeParams = z
  .object({ agent_id: AgentId, token_id: z.string().min(1).optional(), all: z.literal(true).optional() })
  .refine((p) => (p.token_id === undefined) !== (p.all === undefined), {
    message: 'give exactly one of token_id or all: true',
    path: ['token_id'],
  });

// ── helpers ──────────────────────────────────────────────────────────────────

/** An agent by id, or by name when the name is unique among live agents. */
/** A live agent by id, by its name (one agent only), or by a unique id prefix. */
function findLiveAgent(runtime: Runtime, ref: string): string | undefined {
  const agents = runtime.listAgents();
  if (agents.some((a) => a.id === ref)) return ref;
  const named = agents.filter((a) => a.name === ref);
  if (named.length > 1)
    throw ambiguous(
      'agent',
      ref,
      named.map((a) => ({ id: a.id, label: `${a.name}, ${a.state}` })),
      'name',
    );
  if (named.length === 1) return named[0]!.id;
  return byIdPrefix(
    'agent',
    ref,
    agents.map((a) => ({ id: a.id, label: a.name })),
  );
}

function agentInfo(runtime: Runtime, ref: string): AgentInfo {
  const id = findLiveAgent(runtime, ref) ?? ref;
  return runtime.retiredAgents().find((a) => a.id === id) ?? runtime.agentStatus(id);
}

function liveAgentId(runtime: Runtime, ref: string): string {
  const id = findLiveAgent(runtime, ref);
  if (!id)
    throw new AaosError(ErrorCode.AGENT_NOT_FOUND, `no live agent with id, name or id prefix '${ref}'`, {
      agent_id: ref,
    });
  return id;
}

/** The agent a message goes to; in a cluster, a persistent agent whose node is down is taken over by this node. */
async function agentToUse(daemon: DaemonContext, ref: string): Promise<string> {
  const { runtime } = daemon;
  const cluster = daemon.cluster();
  const local = cluster ? findLiveAgent(runtime, ref) : undefined;
  return local ?? (cluster ? await cluster.useAgent(ref) : undefined) ?? liveAgentId(runtime, ref);
}

/** In a cluster, an operator's request for an agent that lives on another node, done there; undefined: it lives here. */
async function onItsNode(
  daemon: DaemonContext,
  request: OperatorRequest,
): Promise<{ agent_id: string; node_id: string; value: unknown } | undefined> {
  const cluster = daemon.cluster();
  if (!cluster || findLiveAgent(daemon.runtime, request.agent_id) !== undefined) return undefined;
  return cluster.onAgentsNode(request);
}

/**
 * An operator's message (agent.run, agent.send) is a run of its own, with a workspace under
 * the data dir like a goal's (`{workspace}` in scripts and prompts); made when first written.
 */
function messageRun(runtime: Runtime): { runId: string; workspace: string } {
  const runId = randomUUID();
  return { runId, workspace: join(runtime.dataDir, 'workspace', runId) };
}

async function spawnFrom(
  runtime: Runtime,
  p: { manifest?: string | undefined; manifest_path?: string | undefined },
): Promise<AgentInfo> {
  // a path is read on the daemon's host, relative to the daemon's working directory;
  // persistent agents are recorded so they come back after a restart
  return runtime.spawnAgent(p.manifest_path !== undefined ? { path: resolve(p.manifest_path) } : { yaml: p.manifest! });
}

/** A run by id or unique id prefix. */
function requireRun(runtime: Runtime, runId: string) {
  const exact = runtime.run(runId);
  if (exact) return exact;
  const id = byIdPrefix(
    'run',
    runId,
    runtime.runs().map((r) => ({ id: r.run_id, label: `${r.state}: ${r.goal.slice(0, 40)}` })),
  );
  const rec = id ? runtime.run(id) : undefined;
  if (!rec) throw new AaosError(ErrorCode.RUN_NOT_FOUND, `no run with id or id prefix '${runId}'`, { run_id: runId });
  return rec;
}

/** `agent.logs_streaming`'s `tail` and `since`: which stored events are replayed (and, for since, forwarded). */
type LogWindow = Pick<LogsParams, 'tail' | 'since'>;

function sinceFilter(window: LogWindow): (e: AuditEvent) => boolean {
  if (window.since === undefined) return () => true;
  const from = Date.parse(window.since);
  return (e) => Date.parse(e.ts) >= from;
}

/** The stored events a log stream replays: the newest `tail` (read from the end), or the history from its start. */
function windowed(runtime: Runtime, filter: { runId?: string; agentId?: string }, window: LogWindow): AuditEvent[] {
  const after = sinceFilter(window);
  if (window.tail !== undefined) return runtime.auditTail(filter, window.tail, after);
  return runtime.auditHistory(filter).filter(after);
}

/** Opens the event stream of a run; ends with an `end` frame when the run ends (or at once without follow). */
function streamRun(
  ctx: CallContext,
  runId: string,
  follow: boolean,
  done: Promise<RunRecord> | undefined,
  window: LogWindow,
): FrameStream {
  const { runtime } = ctx.daemon;
  const stream = new FrameStream(ctx.conn, ctx.id ?? null);
  const live = follow && done !== undefined;
  const after = sinceFilter(window);
  replayAndFollow(
    runtime.events,
    stream,
    (e) => e.run_id === runId && after(e),
    live,
    undefined,
    () => windowed(runtime, { runId }, window),
  );
  if (live) endWith(stream, done);
  else {
    const rec = runtime.run(runId);
    if (rec) stream.push(endFrameForRun(stream.id, rec));
    stream.close();
  }
  return stream;
}

/**
 * Cluster mode: the goal goes to the shared work queue and is acknowledged once stored
 * there. Any node may run it; the stream carries this node's events of the run (if it
 * runs here) and ends when some node records its completion.
 */
async function submitToCluster(
  ctx: CallContext,
  cluster: ClusterNode,
  p: SubmitParams,
): Promise<Record<string, unknown>> {
  const rec = await cluster.submit(p.goal, p.orchestration ? { orchestration: p.orchestration } : {});
  const stream = new FrameStream(ctx.conn, ctx.id ?? null);
  stream.own(
    ctx.daemon.runtime.events.subscribe((e) => {
      if (e.run_id === rec.run_id) stream.push({ kind: 'event', stream: stream.id, event: e });
    }),
  );
  endWith(
    stream,
    cluster.whenDone(rec.run_id).then((r) => r ?? rec),
  );
  ctx.afterResponse(() => stream.start());
  return { run_id: rec.run_id, workspace: rec.workspace, state: rec.state, cluster_node: cluster.nodeId };
}

/** Pushes the run's end frame when `done` settles (it never rejects), then closes the stream. */
function endWith(stream: FrameStream, done: Promise<RunRecord>): void {
  void done.then(
    (rec) => {
      stream.push(endFrameForRun(stream.id, rec));
      stream.close();
    },
    () => stream.close(),
  );
}

// ── the method table ─────────────────────────────────────────────────────────

const METHODS: Readonly<Record<string, MethodSpec>> = {
  'agent.spawn': {
    readOnly: false,
    async handle(params, { daemon }) {
      const p = parseParams('agent.spawn', AgentSpawnParams, params);
      const info = await spawnFrom(daemon.runtime, p);
      return { agent_id: info.id, agent: info };
    },
  },
  'agent.stop': {
    readOnly: false,
    async handle(params, { daemon }) {
      const p = parseParams('agent.stop', AgentStopParams, params);
      // in a cluster: an agent on any node, the stop recorded for every node
      const cluster = daemon.cluster();
      if (cluster)
        return stopInCluster(
          daemon.runtime,
          cluster,
          findLiveAgent(daemon.runtime, p.agent_id),
          p.agent_id,
          p.force === true,
        );
      const id = liveAgentId(daemon.runtime, p.agent_id);
      if (id === daemon.runtime.bootstrapAgentId && p.force !== true) {
        throw new AaosError(
          ErrorCode.BOOTSTRAP_PROTECTED,
          `agent ${id} is the bootstrap agent: without it the daemon refuses every goal until it restarts; stop it with force (agentd stop --force ${id}) if that is what you want`,
          { agent_id: id },
        );
      }
      await daemon.runtime.stopAgent(id, 'stopped by operator');
      return { ok: true, agent_id: id };
    },
  },
  'agent.pause': {
    readOnly: false,
    handle(params, { daemon }) {
      const p = parseParams('agent.pause', AgentPauseParams, params);
      const id = liveAgentId(daemon.runtime, p.agent_id);
      if (id === daemon.runtime.bootstrapAgentId && p.force !== true) {
        throw new AaosError(
          ErrorCode.BOOTSTRAP_PROTECTED,
          `agent ${id} is the bootstrap agent: while it is paused every goal waits; pause it with force (agentd pause --force ${id}) if that is what you want`,
          { agent_id: id },
        );
      }
      return { agent_id: id, agent: daemon.runtime.pauseAgent(id) };
    },
  },
  'agent.resume': {
    readOnly: false,
    handle(params, { daemon }) {
      const p = parseParams('agent.resume', AgentIdParams, params);
      const id = liveAgentId(daemon.runtime, p.agent_id);
      return { agent_id: id, agent: daemon.runtime.resumeAgent(id) };
    },
  },
  'agent.send': {
    readOnly: false,
    async handle(params, { daemon }) {
      const p = parseParams('agent.send', AgentRunParams, params);
      const id = await agentToUse(daemon, p.agent_id);
      const run = messageRun(daemon.runtime);
      const outcome = daemon.runtime.runAgent(id, p.message, run);
      // a refusal (mailbox full, shutting down) rejects before the delivery's first await;
      // once the next turn of the event loop comes, the message is in the agent's mailbox
      const refused = await Promise.race([
        outcome.then(
          () => undefined,
          (err: unknown) => err,
        ),
        new Promise<undefined>((r) => setImmediate(() => r(undefined))),
      ]);
      if (refused !== undefined) throw refused;
      // the answer is the agent's business now: its events are in the audit log (agentd logs <agent>)
      outcome.catch(() => {});
      return { agent_id: id, run_id: run.runId, accepted: true };
    },
  },
  'agent.list': {
    readOnly: true,
    handle(params, { daemon }) {
      parseParams('agent.list', NoParams, params);
      // live agents, then stopped ones whose state is kept (replaced bootstrap agents)
      return { agents: [...daemon.runtime.listAgents(), ...daemon.runtime.retiredAgents()] };
    },
  },
  'agent.status': {
    readOnly: true,
    handle(params, { daemon }) {
      const p = parseParams('agent.status', AgentIdParams, params);
      const info = agentInfo(daemon.runtime, p.agent_id);
      // live agents also report what their worker says about itself (control channel)
      if (!daemon.runtime.isLive(info.id)) return info;
      return daemon.runtime.inspectAgent(info.id);
    },
  },
  'agent.run': {
    readOnly: false,
    async handle(params, { daemon }) {
      const p = parseParams('agent.run', AgentRunParams, params);
      const id = await agentToUse(daemon, p.agent_id);
      return runSummary(await daemon.runtime.runAgent(id, p.message, messageRun(daemon.runtime)));
    },
  },
  'agent.spawn_and_run': {
    readOnly: false,
    async handle(params, { daemon }) {
      const p = parseParams('agent.spawn_and_run', SpawnAndRunParams, params);
      const info = await spawnFrom(daemon.runtime, p);
      try {
        return { ...runSummary(await daemon.runtime.runAgent(info.id, p.message)), agent_id: info.id };
      } finally {
        await daemon.runtime.stopLive(info.id, 'spawn_and_run finished');
      }
    },
  },
  'agent.submit_streaming': {
    readOnly: false,
    handle(params, ctx) {
      const p = parseParams('agent.submit_streaming', SubmitParams, params);
      const { runtime } = ctx.daemon;
      if (ctx.daemon.draining())
        throw new AaosError(ErrorCode.SHUTTING_DOWN, 'the daemon is shutting down and takes no new goals');
      const cluster = ctx.daemon.cluster();
      if (cluster) return submitToCluster(ctx, cluster, p);
      // events of the new run are emitted while submit() runs: subscribe first, keep them held
      const stream = new FrameStream(ctx.conn, ctx.id ?? null);
      let runId: string | undefined;
      const early: AuditEvent[] = [];
      stream.own(
        runtime.events.subscribe((e) => {
          if (runId === undefined) early.push(e);
          else if (e.run_id === runId) stream.push({ kind: 'event', stream: stream.id, event: e });
        }),
      );
      let handle;
      try {
        handle = runtime.submitGoal(p.goal, p.orchestration ? { orchestration: p.orchestration } : {});
      } catch (err) {
        stream.close();
        throw err;
      }
      runId = handle.run_id;
      for (const e of early) if (e.run_id === runId) stream.push({ kind: 'event', stream: stream.id, event: e });
      endWith(stream, handle.done);
      ctx.afterResponse(() => stream.start());
      return {
        run_id: handle.run_id,
        workspace: handle.workspace,
        state: runtime.run(handle.run_id)?.state ?? 'queued',
      };
    },
  },
  'agent.logs_streaming': {
    readOnly: true,
    handle(params, ctx) {
      const p = parseParams('agent.logs_streaming', LogsParams, params);
      const { runtime } = ctx.daemon;
      const follow = p.follow ?? false;
      if (p.run_id !== undefined) {
        const rec = requireRun(runtime, p.run_id);
        const done = isTerminalRun(rec.state) ? undefined : runtime.whenRunDone(rec.run_id);
        const stream = streamRun(ctx, rec.run_id, follow, done, p);
        ctx.afterResponse(() => stream.start());
        return { run_id: rec.run_id, state: rec.state, follow };
      }
      let info: { id: string; state: string };
      try {
        info = agentInfo(runtime, p.agent_id!);
      } catch (err) {
        // an agent of an earlier process: its events are still in the durable audit log
        if (runtime.auditHistory({ agentId: p.agent_id! }, 1).length === 0) throw err;
        info = { id: p.agent_id!, state: 'ended' };
      }
      const agentId = info.id;
      const live = runtime.isLive(agentId);
      const stream = new FrameStream(ctx.conn, ctx.id ?? null);
      const end = (status: string): void => {
        stream.push({
          kind: 'end',
          stream: stream.id,
          agent_id: agentId,
          status,
          exit_code: status === 'stopped' ? 0 : status === 'failed' ? 1 : null,
        });
        stream.close();
      };
      const after = sinceFilter(p);
      replayAndFollow(
        runtime.events,
        stream,
        (e) => e.agent_id === agentId && after(e),
        follow && live,
        (e) => {
          if (e.type === 'AgentStopped') end('stopped');
          else if (e.type === 'AgentFailed') end('failed');
        },
        () => windowed(runtime, { agentId }, p),
      );
      if (!(follow && live)) end(info.state);
      ctx.afterResponse(() => stream.start());
      return { agent_id: agentId, state: info.state, follow };
    },
  },
  'run.list': {
    readOnly: true,
    handle(params, { daemon }) {
      const p = parseParams('run.list', RunListParams, params) ?? {};
      const local = daemon.runtime.runs({ ...(p.state ? { state: p.state } : {}), limit: p.limit ?? 100 });
      const cluster = daemon.cluster();
      if (!cluster) return { runs: local };
      // every run of the cluster, from its shared records; local-only runs (--stdin) beside them
      return cluster.list(p.limit ?? 100).then((shared) => {
        const ids = new Set(shared.map((r) => r.run_id));
        const runs = [
          ...shared.filter((r) => !p.state || r.state === p.state),
          ...local.filter((r) => !ids.has(r.run_id)),
        ];
        return { runs: runs.sort((a, b) => b.created_at.localeCompare(a.created_at)).slice(0, p.limit ?? 100) };
      });
    },
  },
  'run.status': {
    readOnly: true,
    async handle(params, { daemon }) {
      const p = parseParams('run.status', RunIdParams, params);
      const cluster = daemon.cluster();
      const shared = cluster ? await cluster.get(p.run_id) : undefined;
      if (shared) return shared;
      const rec = requireRun(daemon.runtime, p.run_id);
      const plan = daemon.runtime.runPlan(rec);
      return plan ? { ...rec, plan } : rec;
    },
  },
  'cluster.status': {
    readOnly: true,
    handle(params, { daemon }) {
      parseParams('cluster.status', NoParams, params);
      const cluster = daemon.cluster();
      if (!cluster)
        throw new AaosError(
          ErrorCode.CLUSTER_UNAVAILABLE,
          'this daemon is not in a cluster: start it with agentd run --cluster nats://HOST:PORT (or AAOS_CLUSTER_URL)',
        );
      return cluster.status();
    },
  },
  'run.cancel': {
    readOnly: false,
    handle(params, { daemon }) {
      const p = parseParams('run.cancel', RunIdParams, params);
      const before = requireRun(daemon.runtime, p.run_id);
      const rec = daemon.runtime.cancelRun(before.run_id, 'cancelled by operator');
      return { run_id: rec.run_id, state: rec.state, cancelled: !isTerminalRun(before.state) };
    },
  },
  'tool.list': {
    readOnly: true,
    handle(params, { daemon }) {
      parseParams('tool.list', NoParams, params);
      return { tools: daemon.runtime.toolDefinitions(), mcp_servers: daemon.runtime.mcpStatus() };
    },
  },
  'tool.invoke': {
    readOnly: false,
    async handle(params, { daemon }) {
      const p = parseParams('tool.invoke', ToolInvokeParams, params);
      // in a cluster: an agent on another node is served there (its tokens, its audit log)
      const there = await onItsNode(daemon, {
        op: 'tool.invoke',
        agent_id: p.agent_id,
        tool: p.tool,
        input: p.input,
      });
      if (there) return { result: there.value ?? null, node_id: there.node_id };
      // the same path as a worker's call: capability check, skills, human approval, audit
      const result = await daemon.runtime.invokeTool(liveAgentId(daemon.runtime, p.agent_id), p.tool, p.input);
      return { result: result ?? null };
    },
  },
  'approval.list': {
    readOnly: true,
    handle(params, { daemon }) {
      parseParams('approval.list', NoParams, params);
      return daemon.runtime.approvals.list();
    },
  },
  'approval.respond': {
    // answering approvals lets running work finish, so it is served while draining
    readOnly: true,
    handle(params, { daemon }) {
      const p = parseParams('approval.respond', ApprovalResponse, params);
      const { pending } = daemon.runtime.approvals.list();
      // an exact id (also one already answered, which says so) wins over a prefix
      const id = pending.some((a) => a.id === p.id)
        ? p.id
        : (byIdPrefix(
            'approval',
            p.id,
            pending.map((a) => ({ id: a.id, label: `${a.agent_name} wants ${a.tool}` })),
          ) ?? p.id);
      return daemon.runtime.approvals.respond({ ...p, id });
    },
  },
  'approval.watch_streaming': {
    readOnly: true,
    handle(params, ctx) {
      parseParams('approval.watch_streaming', NoParams, params);
      const stream = new FrameStream(ctx.conn, ctx.id ?? null);
      const snapshot = ctx.daemon.runtime.approvals.list();
      followApprovals(ctx.daemon.runtime.approvals, stream);
      ctx.afterResponse(() => stream.start());
      return snapshot;
    },
  },
  'capability.list': {
    readOnly: true,
    async handle(params, { daemon }) {
      const p = parseParams('capability.list', AgentIdParams, params);
      const there = await onItsNode(daemon, { op: 'capability.list', agent_id: p.agent_id });
      if (there) return { agent_id: there.agent_id, node_id: there.node_id, tokens: there.value };
      const id = liveAgentId(daemon.runtime, p.agent_id);
      return { agent_id: id, tokens: daemon.runtime.tokens(id) };
    },
  },
  'capability.revoke': {
    readOnly: false,
    handle(params, { daemon }) {
      const p = parseParams('capability.revoke', RevokeParams, params);
      const { runtime } = daemon;
      const cluster = daemon.cluster();
      const localId = cluster ? findLiveAgent(runtime, p.agent_id) : undefined;
      // in a cluster: an agent on any node; the revocation recorded for every node
      if (cluster && (localId === undefined || p.all)) return revokeInCluster(cluster, localId, p);
      const id = localId ?? liveAgentId(runtime, p.agent_id);
      if (p.all) return { agent_id: id, revoked: runtime.revokeAllTokens(id, 'revoked by operator') };
      const tokens = runtime.tokens(id);
      const tokenId = tokens.some((t) => t.id === p.token_id)
        ? p.token_id
        : byIdPrefix(
            'token',
            p.token_id!,
            tokens.map((t) => ({ id: t.id, label: JSON.stringify(t.capability) })),
          );
      const token = tokens.find((t) => t.id === tokenId);
      if (!token) {
        throw new AaosError(
          ErrorCode.CAPABILITY_UNKNOWN_HANDLE,
          `agent ${id} holds no token '${p.token_id}'; \`agentd revoke\` needs an id from capability.list`,
          {
            agent_id: id,
            token_id: p.token_id,
          },
        );
      }
      if (cluster) return revokeInCluster(cluster, id, p);
      return { agent_id: id, revoked: runtime.revokeToken(token.id, 'revoked by operator') ? 1 : 0 };
    },
  },
  'system.health': {
    readOnly: true,
    handle(params, { daemon }) {
      parseParams('system.health', NoParams, params);
      const health = daemon.runtime.health();
      return {
        status: daemon.draining() ? 'draining' : health.problems.length > 0 ? 'degraded' : 'ok',
        problems: health.problems,
        store: health.store,
        version: daemon.version,
        pid: process.pid,
        uptime_ms: Date.now() - daemon.startedAt,
        agents: health.agents,
        bootstrap_agent_id: health.bootstrap_agent_id,
        runs: health.runs,
        approvals_pending: health.approvals_pending,
        connections: daemon.connections(),
        connections_refused: daemon.connectionsRefused(),
        provider: health.provider,
      };
    },
  },
};

/** The method, if it exists (own keys only: `__proto__` or `toString` are not methods). */
export function findMethod(name: string): MethodSpec | undefined {
  return Object.hasOwn(METHODS, name) ? METHODS[name] : undefined;
}
