import type { CallContext } from '../audit/call-context.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditInput } from '../audit/event.js';
import type { WorkerStats } from '../agent/control.js';
import { AaosError, ErrorCode } from '../errors/index.js';
import type { AgentManifest } from '../manifest/schema.js';
import type { ReplyEnvelope } from '../protocol/envelopes.js';
import type { RunOutcome } from '../protocol/index.js';
import type { McpEnvelope } from '../router/envelope.js';
import { DEFAULT_MAX_MESSAGE_BYTES, Router, type DeliveryContext } from '../router/router.js';
import type { ToolRegistry } from '../tools/registry.js';
import type { ChildRunResult } from '../tools/tool.js';
import type { AgentInfo, LiveAgent } from './agent-table.js';
import type { TokenStatePersistence } from '../capability/capability-table.js';
import type { TokenView } from '../capability/capability-token.js';
import { isTerminal } from './lifecycle.js';
import type { RemoteAgentsPort, RemoteSpawn } from './remote-agents.js';
import { SupervisorCore } from './supervisor/core.js';
import { Deliveries } from './supervisor/delivery.js';
import { Lifecycle } from './supervisor/lifecycle.js';
import { ModelRequests } from './supervisor/model-requests.js';
import type { ChildRunOptions, RunOptions, SpawnOptions, SupervisorOptions } from './supervisor/options.js';
import { Parking } from './supervisor/parking.js';
import { Spawning } from './supervisor/spawning.js';
import { WorkerRequests } from './supervisor/worker-requests.js';

export { DEFAULT_MAILBOX_MAX } from './supervisor/options.js';
export type { ChildRunOptions, RunOptions, SpawnOptions, SupervisorOptions } from './supervisor/options.js';

/**
 * The supervisor: the only place with authority. It spawns agents into workers, answers
 * their requests (model, tool, message) after checking capabilities, and records everything
 * in the audit log. This class is its façade; each concern is a module in `supervisor/`:
 * `core` (shared tables and state), `spawning`, `delivery`, `model-requests`,
 * `worker-requests`, `parking` (idle parking, restarts) and `lifecycle` (stop, failure,
 * shutdown). Tool calls take `tool-dispatch.ts`; messages between agents the `Router`.
 */
export class Supervisor {
  readonly audit: AuditLog;
  /** the tool registry (the composition root adds MCP tools to it) */
  readonly tools: ToolRegistry;
  readonly dataDir: string;
  private readonly core: SupervisorCore;
  private readonly deliveries: Deliveries;
  private readonly spawning: Spawning;
  private readonly lifecycle: Lifecycle;
  private readonly requests: WorkerRequests;

  constructor(opts: SupervisorOptions) {
    const core = new SupervisorCore(opts);
    const models = new ModelRequests(core);
    const parking = new Parking(core);
    const lifecycle = new Lifecycle(core, parking);
    const deliveries = new Deliveries(core, models, parking);
    const spawning = new Spawning(core, lifecycle, deliveries);
    const requests = new WorkerRequests(core, models, spawning);
    core.hooks = {
      onRequest: (actor, msg) => requests.handle(actor, msg),
      onStateChange: (actor, from, to, reason) => lifecycle.onStateChange(actor, from, to, reason),
      terminate: (worker) => core.launcher.terminate(worker),
    };
    // a recipient not live here, in a cluster: an agent on another node (core.remote)
    const remoteOnly = (agentId: string) => (!core.agents.get(agentId) ? core.remote : undefined);
    core.router = new Router(
      {
        resolve: (ref) => {
          const rec = core.agents.resolve(ref);
          if (rec) return !isTerminal(rec.actor.state) ? rec.identity : undefined;
          return core.remote?.resolve(ref);
        },
        authorize: (sender, request) => {
          core.capabilities.authorize(sender, request);
        },
        checkMailbox: (sender, recipient, method) => {
          // an agent on another node: its node checks its mailbox
          if (remoteOnly(recipient.id)) return;
          const refused = deliveries.mailboxRefusal(core.agents.require(recipient.id), sender, method);
          if (refused) throw refused;
        },
        deliver: (recipient, text, envelope, context, attachments) => {
          const remote = remoteOnly(recipient.id);
          if (remote) {
            if (attachments?.length)
              throw new AaosError(
                ErrorCode.TOOL_INPUT_INVALID,
                `agent ${recipient.name} lives on another node: attachments do not cross nodes`,
                { agent_id: recipient.id },
              );
            return remote.deliver(recipient, text, context);
          }
          return deliveries.deliverRouted(recipient.id, text, envelope, context, attachments);
        },
        cancel: (recipient, runId, envelopeText, reason) => {
          const remote = remoteOnly(recipient.id);
          if (remote) remote.cancel(recipient, runId, envelopeText, reason);
          else deliveries.cancelRun(recipient.id, runId, reason, envelopeText);
        },
        emit: (e) => core.emit(e),
      },
      { maxMessageBytes: opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES },
    );
    this.core = core;
    this.deliveries = deliveries;
    this.spawning = spawning;
    this.lifecycle = lifecycle;
    this.requests = requests;
    this.audit = core.audit;
    this.tools = core.tools;
    this.dataDir = core.dataDir;
  }

  emit(event: AuditInput): void {
    this.core.emit(event);
  }

  // ── agents and runs ─────────────────────────────────────────────────────────

  /** Spawn an agent from a parsed manifest or manifest YAML. Children are narrowed to their parent. */
  async spawn(manifestOrYaml: AgentManifest | string, options: SpawnOptions = {}): Promise<AgentInfo> {
    return this.core.info(await this.spawning.spawnRecord(manifestOrYaml, options));
  }

  /** Deliver `message` to an agent as an `agent.run` envelope and wait for the run's result. */
  run(agentId: string, message: string, options: RunOptions = {}): Promise<RunOutcome> {
    return this.deliveries.run(agentId, message, options);
  }

  /** Cancel a run wherever it is: queued in a mailbox, waiting on a model, or running tools. */
  cancelRun(agentId: string, runId: string, reason = 'cancelled', envelope?: string): boolean {
    return this.deliveries.cancelRun(agentId, runId, reason, envelope);
  }

  /** Spawn a child narrowed to its parent, run `message`, stop it (spawn_agent and plan subtasks). */
  runChild(
    parentId: string,
    manifest: AgentManifest,
    message: string,
    options: ChildRunOptions,
  ): Promise<ChildRunResult> {
    return this.spawning.runChild(parentId, manifest, message, options);
  }

  /** `tool.invoke` from the socket API: the same path a worker's call takes, approval included. */
  invokeTool(agentId: string, tool: string, input: unknown, options: { signal?: AbortSignal } = {}): Promise<unknown> {
    return this.requests.invokeTool(agentId, tool, input, options);
  }

  pause(agentId: string): void {
    this.lifecycle.pause(agentId);
  }

  resume(agentId: string): void {
    this.lifecycle.resume(agentId);
  }

  /** Stop an agent and its subtree; revokes its tokens. Idempotent for live ids. */
  stop(agentId: string, reason = 'user_requested'): Promise<void> {
    return this.lifecycle.stop(agentId, reason);
  }

  /** Refuse new work, cancel runs, stop every agent (terminations are serialised). */
  shutdown(reason = 'shutdown'): Promise<void> {
    return this.lifecycle.shutdown(reason);
  }

  get isShuttingDown(): boolean {
    return this.core.shuttingDown;
  }

  // ── cluster ─────────────────────────────────────────────────────────────────

  /** Joins a cluster: children may be placed on other nodes and envelopes reach agents there. */
  attachRemote(port: RemoteAgentsPort): void {
    this.core.remote = port;
  }

  /** An envelope the sender's node authorised, into the recipient's mailbox here. */
  deliverRouted(
    recipientId: string,
    text: string,
    envelope: McpEnvelope,
    context: DeliveryContext,
    attachments?: ArrayBuffer[],
  ): Promise<RunOutcome> {
    return this.deliveries.deliverRouted(recipientId, text, envelope, context, attachments);
  }

  /** A child whose parent lives on another node: spawned here with the tokens narrowed there, run, stopped. */
  runAdoptedChild(spawn: RemoteSpawn, signal: AbortSignal): Promise<ChildRunResult> {
    return this.spawning.runAdoptedChild(spawn, signal);
  }

  // ── messages from tools (ask_agent, send_message) ──────────────────────────

  /** Fire and forget from `sender` (a tool call's context): resolves once the envelope is in the recipient's mailbox. */
  send(sender: CallContext, envelopeText: string): Promise<{ status: 'delivered'; envelope_id: string }> {
    return this.core.router.send(sender, envelopeText);
  }

  /** Request/reply from `sender` (a tool call's context), answered with a response envelope. */
  request(sender: CallContext, envelopeText: string, timeoutMs: number): Promise<ReplyEnvelope> {
    return this.core.router.request(sender, envelopeText, timeoutMs);
  }

  /** Tool calls running now. */
  get toolCallsInFlight(): number {
    return this.core.toolCalls.size;
  }

  /** Resolves true once no tool call runs, false after `timeoutMs` or when `stopWaitingForToolCalls()` is called. */
  settleToolCalls(timeoutMs: number): Promise<boolean> {
    return this.core.toolCalls.settle(timeoutMs);
  }

  stopWaitingForToolCalls(): void {
    this.core.toolCalls.release();
  }

  /** Routed requests waiting for their answer. */
  get pendingRequests(): number {
    return this.core.router.pendingCount;
  }

  // ── queries ─────────────────────────────────────────────────────────────────

  list(): AgentInfo[] {
    return this.core.agents.all().map((r) => this.core.info(r));
  }

  status(agentId: string): AgentInfo {
    const rec = this.core.agents.get(agentId);
    if (rec) return this.core.info(rec);
    const ended = this.core.endedInfo(agentId);
    if (ended) return ended;
    throw new AaosError(ErrorCode.AGENT_NOT_FOUND, `no agent with id '${agentId}'`, { agent_id: agentId });
  }

  /** Status plus what the worker reports about itself (heap, active deliveries, env size). */
  async inspect(agentId: string): Promise<AgentInfo & { worker: WorkerStats | null }> {
    const info = this.status(agentId);
    return { ...info, worker: (await this.workerStats(agentId)) ?? null };
  }

  /** Pre-started workers ready for a spawn (AAOS_WARM_WORKERS). */
  get warmWorkers(): number {
    return this.core.launcher.warmCount;
  }

  /** Agents live here (running, parked, starting). */
  get liveCount(): number {
    return this.core.agents.size;
  }

  /** Whether the agent is live here (spawned and not yet stopped or retired). */
  isLive(agentId: string): boolean {
    return this.core.agents.get(agentId) !== undefined;
  }

  manifestOf(agentId: string): AgentManifest | undefined {
    return this.core.agents.get(agentId)?.manifest;
  }

  /** What a live agent's worker says about itself; undefined when it is not live or does not answer in time. */
  async workerStats(agentId: string, timeoutMs?: number): Promise<WorkerStats | undefined> {
    return this.core.agents.get(agentId)?.actor.stats(timeoutMs);
  }

  /** A live agent's record (tests and diagnostics: its actor, its worker's thread). */
  record(agentId: string): LiveAgent | undefined {
    return this.core.agents.get(agentId);
  }

  // ── capability tokens (operator) ────────────────────────────────────────────

  tokens(agentId: string): TokenView[] {
    return this.core.capabilities.list(agentId);
  }

  revokeToken(tokenId: string, reason: string): boolean {
    return this.core.capabilities.revoke(tokenId, reason);
  }

  /** A token revoked on another node: every token here narrowed from it is revoked; how many. */
  revokeDelegatedFrom(tokenId: string, reason: string): number {
    return this.core.capabilities.revokeDelegatedFrom(tokenId, reason);
  }

  revokeAll(agentId: string, reason: string, options: { durable?: boolean } = {}): number {
    return this.core.capabilities.revokeAll(agentId, reason, options);
  }

  /** Explicit revocations and max_invocations counters of persistent agents outlive the process. */
  setTokenPersistence(persistence: TokenStatePersistence): void {
    this.core.capabilities.setPersistence(persistence);
  }
}
