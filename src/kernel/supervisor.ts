import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AuditLog } from '../audit/audit-log.js';
import { newSpanId, newTraceId, type TraceParent } from '../audit/trace-ids.js';
import type { AuditInput } from '../audit/event.js';
import { AaosError, ErrorCode, isAaosError, toPlainError } from '../errors/index.js';
import { expandCapabilities } from '../manifest/expand.js';
import { parseManifest } from '../manifest/parse.js';
import type { AgentManifest } from '../manifest/schema.js';
import type { Delivery, RunOutcome, RunResult, WorkerRequest } from '../protocol/index.js';
import type { ModelResponse } from '../providers/model.js';
import { makeEnvelope } from '../router/envelope.js';
import { DEFAULT_MAX_MESSAGE_BYTES, Router, type DeliveryContext, type RouterAgent } from '../router/router.js';
import type { McpEnvelope } from '../router/envelope.js';
import { ToolRegistry } from '../tools/registry.js';
import type { ChildRunResult, Tool } from '../tools/tool.js';
import type { WorkerStats } from '../agent/control.js';
import { AgentActor } from './actor.js';
import { AgentTable, type AgentInfo, type AgentRecord } from './agent-table.js';
import { CapabilityTable, type AgentRef } from './capability-table.js';
import { closedTranscript, Conversations, recordAssistant, type RunState } from './conversation.js';
import { AgentState, isTerminal } from './lifecycle.js';
import { LazyAbort } from './lazy-abort.js';
import { PROJECT_ROOT } from './built-path.js';
import { ManifestCache } from './manifest-cache.js';
import { inheritApprovals } from './inherited-approvals.js';
import { ManifestFileAccess } from './manifest-file-access.js';
import type { AgentIdentity, ApprovalPort, HistoryPort, ModelPort, RunJournalPort, SkillsPort } from './ports.js';
import type { RemoteAgentsPort, RemoteSpawn } from './remote-agents.js';
import type { TokenView } from './capability-token.js';
import { resumeTranscript } from './resume-transcript.js';
import { dispatchTool, hashInput, preview, type ToolCall } from './tool-dispatch.js';
import { DEFAULT_AGENT_MODULE, WorkerLauncher } from './worker-launcher.js';
import { DEFAULT_WATCHDOG_LIMITS, type WatchdogLimits } from './watchdog.js';
import { DEFAULT_RESTART_LIMITS, RestartHistory, type RestartLimits } from './restart-policy.js';
import { sleep } from '../providers/sleep.js';

export interface SupervisorOptions {
  dataDir: string;
  models: ModelPort;
  audit?: AuditLog;
  tools?: Tool[];
  maxAgents?: number;
  maxDepth?: number;
  /** workers booting at once; default: the core count */
  spawnConcurrency?: number;
  maxOutputTokens?: number;
  history?: HistoryPort;
  approvals?: ApprovalPort;
  skills?: SkillsPort;
  /** called to get a system-prompt suffix per agent (context summaries etc.) */
  promptAddenda?: (agentId: string) => string;
  /**
   * Park a persistent agent after this long without work: its worker ends, its
   * state stays in the store, and its next message starts a new worker. 0 = never.
   */
  parkIdleMs?: number;
  /** workers kept pre-started for the LLM agent module (64 MB heap), so spawns skip the boot */
  warmWorkers?: number;
  /** scheduling niceness of agent threads (Linux), so the supervisor keeps its share of the CPU */
  workerNice?: number;
  /**
   * Read-only directories whose files any agent-written manifest may name (prompts,
   * scripts); every other file such a manifest names needs the parent's `file_read`.
   * Default: the bundled `manifests/`.
   */
  promptRoots?: string[];
  /** largest message between agents, UTF-8 bytes of the envelope (default 1 MiB) */
  maxMessageBytes?: number;
  /** messages one agent may hold accepted and unfinished, queued or running (default 1000) */
  mailboxMax?: number;
  /** liveness pings and the run wall-clock limit (default: 60 s, 6 h) */
  watchdog?: Partial<WatchdogLimits>;
  /** restart backoff and intensity of persistent agents whose worker died */
  restarts?: Partial<RestartLimits>;
  /** spawn_agent runs a child that ended in error again this many times (default 1) */
  spawnRetries?: number;
  /** the tool repeat guard: the Nth identical tool call of a run stops it (default 3; 0 = off) */
  toolRepeatThreshold?: number;
  /** where journaled (goal) runs record their model turns and tool calls, for resume */
  journal?: RunJournalPort;
}

/** AAOS_MAILBOX_MAX when unset */
export const DEFAULT_MAILBOX_MAX = 1000;

export interface SpawnOptions {
  parentId?: string;
  runId?: string;
  workspace?: string;
  /** file path or URL of a built module exporting `agentModule`; default: the LLM loop */
  module?: string;
  /** deliveries processed at once (persistent bootstrap agents may take several goals) */
  concurrency?: number;
  /** keep this id (persistent agents re-created after a restart) */
  id?: string;
  /** the span (a spawn_agent tool call) the spawn happens in */
  trace?: TraceParent;
  /** the run the agent is spawned for was cancelled: its worker is not started */
  signal?: AbortSignal;
  /** a persistent agent registered without a worker: it starts on its first message, like one parked when idle */
  parked?: boolean;
  /** a child whose parent lives on another node: its depth, parent id and narrowed tokens came with the spawn */
  adopted?: { parentId: string; depth: number; tokens: TokenView[] };
}

export interface ChildRunOptions {
  /** what asked for the child (a tool name, or `plan`), named in a spawn_child denial */
  via: string;
  signal: AbortSignal;
  runId?: string;
  workspace?: string;
  /** called with the child's id once it exists (plans show it) */
  onSpawned?: (agentId: string) => void;
  /** the span the child is spawned from (a spawn_agent tool call): its spawn and run continue that trace */
  trace?: TraceParent;
}

export interface RunOptions {
  /** binary payloads handed on with the envelope (transferred, never copied) */
  attachments?: ArrayBuffer[];
  runId?: string;
  workspace?: string;
  signal?: AbortSignal;
  method?: string;
  /** the envelope's user text when the caller has already parsed it (saves a second parse) */
  messageText?: string;
  /** continue the caller's trace: the delivery's span becomes a child of this one */
  trace?: TraceParent;
  /** the goal run this delivery belongs to, when it is not the agent's own (a routed request's: its caller's) */
  goalRunId?: string;
  /** write the run's model turns and tool calls to the journal (goal runs, keyed by `runId`) */
  journal?: boolean;
  /** continue the run from its journal instead of starting it over (after a restart) */
  resume?: boolean;
}

const ENDED_KEEP = 1000;

/**
 * The supervisor: the only place with authority. It spawns agents into workers,
 * answers their requests (model, tool, message) after checking capabilities, and
 * records everything in the audit log. Responsibilities live beside it:
 * agent-table (admission), capability-table (tokens), tool-dispatch (the tool path),
 * conversation (per-run model context), actor (one worker), router (envelopes).
 */
export class Supervisor {
  readonly audit: AuditLog;
  readonly capabilities: CapabilityTable;
  readonly tools: ToolRegistry;
  readonly router: Router;
  readonly agents: AgentTable;
  readonly dataDir: string;
  private readonly launcher: WorkerLauncher;
  private readonly conversations = new Conversations();
  private readonly manifests = new ManifestCache();
  private readonly manifestFiles: ManifestFileAccess;
  private readonly ended = new Map<string, AgentInfo>();
  private readonly parkTimers = new Map<string, NodeJS.Timeout>();
  /** per agent: messages accepted and not yet finished (queued, preparing or running) */
  private readonly mailboxes = new Map<string, number>();
  private readonly restarts = new Map<string, RestartHistory>();
  private readonly watchdog: WatchdogLimits;
  private readonly restartLimits: RestartLimits;
  private shuttingDown = false;
  /** set when this supervisor is a cluster node: agents on other nodes */
  private remote: RemoteAgentsPort | undefined;

  constructor(private readonly opts: SupervisorOptions) {
    this.dataDir = resolve(opts.dataDir);
    mkdirSync(this.dataDir, { recursive: true });
    this.watchdog = { ...DEFAULT_WATCHDOG_LIMITS, ...opts.watchdog };
    this.restartLimits = { ...DEFAULT_RESTART_LIMITS, ...opts.restarts };
    this.audit = opts.audit ?? new AuditLog();
    this.capabilities = new CapabilityTable((e) => this.emit(e));
    this.manifestFiles = new ManifestFileAccess(this.capabilities, opts.promptRoots ?? [join(PROJECT_ROOT, 'manifests')]);
    this.tools = new ToolRegistry();
    if (opts.tools) this.tools.register(...opts.tools);
    this.agents = new AgentTable({ maxAgents: opts.maxAgents ?? 100, maxDepth: opts.maxDepth ?? 5 });
    this.launcher = new WorkerLauncher(opts.spawnConcurrency, opts.workerNice ?? 0);
    if (opts.warmWorkers && opts.warmWorkers > 0) this.launcher.prewarm(DEFAULT_AGENT_MODULE(), 64, opts.warmWorkers);
    this.router = new Router({
      resolve: (ref) => {
        const rec = this.agents.resolve(ref);
        if (rec) return !isTerminal(rec.actor.state) ? this.routerAgent(rec) : undefined;
        return this.remote?.resolve(ref);
      },
      authorize: (sender, request) => {
        this.capabilities.authorize(sender, request);
      },
      checkMailbox: (sender, recipient, method) => {
        // an agent on another node: its node checks its mailbox
        const local = this.agents.get(recipient.id);
        const refused = local || !this.remote ? this.mailboxRefusal(this.agents.require(recipient.id), sender, method) : undefined;
        if (refused) throw refused;
      },
      deliver: (recipient, text, envelope, context, attachments) => {
        if (!this.agents.get(recipient.id) && this.remote) {
          if (attachments?.length) throw new AaosError(ErrorCode.TOOL_INPUT_INVALID, `agent ${recipient.name} lives on another node: attachments do not cross nodes`, { agent_id: recipient.id });
          return this.remote.deliver(recipient, text, context);
        }
        return this.deliverRouted(recipient.id, text, envelope, context, attachments);
      },
      cancel: (recipient, runId, envelopeText, reason) => {
        if (!this.agents.get(recipient.id) && this.remote) this.remote.cancel(recipient, runId, envelopeText, reason);
        else this.cancelRun(recipient.id, runId, reason, envelopeText);
      },
      emit: (e) => this.emit(e),
    }, { maxMessageBytes: opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES });
  }

  /** An envelope the router (here, or the sender's node) authorised, into the recipient's mailbox. */
  deliverRouted(recipientId: string, text: string, envelope: McpEnvelope, context: DeliveryContext, attachments?: ArrayBuffer[]): Promise<RunOutcome> {
    const message = (envelope.params as { message?: unknown } | undefined)?.message;
    return this.deliverEnvelope(this.agents.require(recipientId), text, {
      runId: context.runId,
      ...(context.goalRunId ? { goalRunId: context.goalRunId } : {}),
      ...(context.hop ? { trace: context.hop } : {}),
      ...(attachments ? { attachments } : {}),
      ...(typeof message === 'string' ? { messageText: message } : {}),
      method: envelope.method,
    });
  }

  emit(event: AuditInput): void {
    this.audit.emit(event);
  }

  /** Joins a cluster: children may be placed on other nodes and envelopes reach agents there. */
  attachRemote(port: RemoteAgentsPort): void {
    this.remote = port;
  }

  // ── spawning ────────────────────────────────────────────────────────────────

  /** Spawn an agent from a parsed manifest or manifest YAML. Children are narrowed to their parent. */
  async spawn(manifestOrYaml: AgentManifest | string, options: SpawnOptions = {}): Promise<AgentInfo> {
    const rec = await this.spawnRecord(manifestOrYaml, options);
    return this.info(rec);
  }

  private async spawnRecord(manifestOrYaml: AgentManifest | string, options: SpawnOptions): Promise<AgentRecord> {
    if (this.shuttingDown) throw new AaosError(ErrorCode.SHUTTING_DOWN, 'the supervisor is shutting down and spawns nothing new');
    const parsed = typeof manifestOrYaml === 'string' ? parseManifest(manifestOrYaml, { file: '<inline>' }) : manifestOrYaml;
    const parent = options.parentId ? this.agents.require(options.parentId) : undefined;
    const adopted = options.adopted;
    // a child cannot do without a human what its parent needed a human for
    const manifest = parent ? inheritApprovals(parsed, parent.manifest) : parsed;
    if (options.parked && manifest.lifecycle !== 'persistent') {
      throw new AaosError(ErrorCode.MANIFEST_INVALID, `agent ${manifest.name}: only a persistent agent can be registered parked (its lifecycle is ${manifest.lifecycle})`, { name: manifest.name });
    }
    const depth = parent ? parent.depth + 1 : (adopted?.depth ?? 0);
    const release = this.agents.reserve(manifest.name, depth);
    const id = options.id ?? randomUUID();
    const parentId = parent?.id ?? adopted?.parentId;
    const ref: AgentRef = { id, name: manifest.name, ...(parentId ? { parentId } : {}), ...(options.runId ? { runId: options.runId } : {}) };
    let rec: AgentRecord | undefined;
    try {
      const grants = expandCapabilities(
        manifest,
        { data_dir: this.dataDir, ...(options.workspace ? { workspace: options.workspace } : {}) },
        Date.now(),
      );
      // denials of a delegation belong to the goal run the child was spawned for
      if (parent) this.capabilities.delegate({ ...this.agentRef(parent), ...(options.runId ? { runId: options.runId } : {}) }, ref, grants, options.trace);
      // narrowed on the parent's node: issued as they came, each under the token it was narrowed to there
      else if (adopted) for (const t of adopted.tokens) this.capabilities.issue(ref, { capability: t.capability, constraints: t.constraints }, t.id);
      else {
        for (const g of grants) this.capabilities.issue(ref, g);
        if (manifest.lifecycle === 'persistent') this.capabilities.restoreDurable(id);
      }

      const actor = new AgentActor(id, manifest.name, this.actorHooks(), options.concurrency ?? 1, { livenessMs: this.watchdog.livenessMs, ...(options.parked ? { parked: true } : {}) });
      rec = {
        id,
        name: manifest.name,
        manifest,
        parentId,
        depth,
        createdAt: new Date().toISOString(),
        actor,
        module: options.module ?? DEFAULT_AGENT_MODULE(),
        runId: options.runId,
        workspace: options.workspace,
        children: new Set(),
      };
      this.agents.add(rec);
      release();
      parent?.children.add(id);
      this.emit({
        type: 'AgentSpawned',
        ...this.header(rec),
        // a spawn from a tool call is a hop in the caller's trace
        ...(options.trace ? { trace_id: options.trace.traceId, span_id: newSpanId(), parent_span_id: options.trace.spanId } : {}),
        manifest_name: manifest.name,
        model: manifest.model,
        depth,
        lifecycle: manifest.lifecycle,
      });
      this.opts.models.registerAgent(this.identity(rec), manifest.budget_config);
      if (!options.parked) await this.startWorker(rec, options.signal);
      return rec;
    } catch (err) {
      release();
      if (rec) {
        await this.retire(rec, isAaosError(err) ? err.message : String(err), 'failed');
      } else {
        this.capabilities.revokeAll(id, 'spawn failed');
        this.capabilities.forget(id);
      }
      throw err;
    }
  }

  private async startWorker(rec: AgentRecord, signal?: AbortSignal): Promise<void> {
    const launched = await this.launcher.acquire({
      module: rec.module,
      maxHeapMb: rec.manifest.limits.max_heap_mb,
      name: `${rec.name}:${rec.id}`,
      ...(signal ? { signal } : {}),
    });
    if (isTerminal(rec.actor.state) || rec.actor.state === AgentState.Stopping) {
      await this.launcher.terminate(launched.worker);
      throw rec.actor.failure ?? new AaosError(ErrorCode.AGENT_STOPPED, `agent ${rec.name} was stopped while starting`);
    }
    if (signal?.aborted) {
      await this.launcher.terminate(launched.worker);
      throw cancelledBeforeStart(rec, signal.reason);
    }
    await rec.actor.attach(launched, { agent_id: rec.id, name: rec.name, max_iterations: rec.manifest.limits.max_iterations });
  }

  // ── running ─────────────────────────────────────────────────────────────────

  /** Deliver `message` to an agent as an `agent.run` envelope and wait for the run's result. */
  async run(agentId: string, message: string, options: RunOptions = {}): Promise<RunOutcome> {
    const rec = this.agents.require(agentId);
    const envelope = makeEnvelope({ sender: 'supervisor', recipient: rec.id, method: options.method ?? 'agent.run', params: { message }, request: true });
    return this.deliverEnvelope(rec, JSON.stringify(envelope), { messageText: message, ...options });
  }

  /** Cancel a run wherever it is: queued in a mailbox, waiting on a model, or running tools. */
  cancelRun(agentId: string, runId: string, reason = 'cancelled', envelope?: string): boolean {
    const rec = this.agents.get(agentId);
    if (!rec) return false;
    const state = this.conversations.get(agentId, runId);
    state?.controller.abort(new AaosError(ErrorCode.CANCELLED, reason));
    rec.actor.cancelRun(runId, reason, envelope);
    // requests this run is waiting on are cancelled at their recipients too
    this.router.cancelFrom(agentId, runId, `the calling run was cancelled: ${reason}`);
    return state !== undefined;
  }

  /**
   * The mailbox bound: MAILBOX_FULL, audited, when `rec` already holds its limit of
   * accepted, unfinished messages. `from` is the sending agent, or undefined for the operator.
   */
  private mailboxRefusal(rec: AgentRecord, from: RouterAgent | undefined, method: string): AaosError | undefined {
    const max = this.opts.mailboxMax ?? DEFAULT_MAILBOX_MAX;
    const queued = this.mailboxes.get(rec.id) ?? 0;
    if (queued < max) return undefined;
    const message = `the mailbox of agent ${rec.name} (${rec.id}) is full: ${queued} messages not yet finished (AAOS_MAILBOX_MAX=${max})`;
    this.emit({
      type: 'MessageRefused',
      ...(from ? { agent_id: from.id, agent_name: from.name, ...(from.runId ? { run_id: from.runId } : {}) } : this.header(rec)),
      from: from?.id ?? 'supervisor',
      to: rec.id,
      method,
      code: ErrorCode.MAILBOX_FULL,
      reason: message,
      queued,
      max_queued: max,
    });
    return new AaosError(ErrorCode.MAILBOX_FULL, message, { agent_id: rec.id, queued, max_queued: max });
  }

  private async deliverEnvelope(rec: AgentRecord, envelopeText: string, options: RunOptions): Promise<RunOutcome> {
    if (this.shuttingDown) throw new AaosError(ErrorCode.SHUTTING_DOWN, 'the supervisor is shutting down');
    // counted before the first await, so the router's check and this one see the same number
    const refused = this.mailboxRefusal(rec, undefined, options.method ?? 'agent.run');
    if (refused) throw refused;
    this.mailboxes.set(rec.id, (this.mailboxes.get(rec.id) ?? 0) + 1);
    try {
      return await this.deliverAccepted(rec, envelopeText, options);
    } finally {
      const left = (this.mailboxes.get(rec.id) ?? 1) - 1;
      if (left > 0) this.mailboxes.set(rec.id, left);
      else this.mailboxes.delete(rec.id);
    }
  }

  private async deliverAccepted(rec: AgentRecord, envelopeText: string, options: RunOptions): Promise<RunOutcome> {
    const runId = options.runId ?? randomUUID();
    if (this.conversations.get(rec.id, runId)) {
      throw new AaosError(ErrorCode.PROTOCOL, `agent ${rec.name} already has a run ${runId}`);
    }
    const persistent = rec.manifest.lifecycle === 'persistent';
    const controller = new LazyAbort();
    const onOuterAbort = (): void => {
      controller.abort(options.signal?.reason);
      rec.actor.cancelRun(runId, 'cancelled by caller');
      this.router.cancelFrom(rec.id, runId, 'the calling run was cancelled');
    };
    // a signal that is already aborted never fires: check it, or a cancelled run's child would start
    if (options.signal?.aborted) throw cancelledBeforeStart(rec, options.signal.reason);
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const goalRunId = options.goalRunId ?? rec.runId ?? runId;
    const state: RunState = {
      agentId: rec.id,
      runId,
      system: undefined,
      messages: [],
      historyLength: 0,
      workspace: options.workspace ?? rec.workspace,
      traceId: options.trace?.traceId ?? newTraceId(),
      spanId: newSpanId(),
      goalRunId,
      controller,
      startedAt: performance.now(),
      usage: { input_tokens: 0, output_tokens: 0 },
      toolRepeats: new Map(),
      ...(options.journal && this.opts.journal ? { journaled: true } : {}),
    };
    this.conversations.open(state);
    const header = {
      ...this.header(rec),
      run_id: goalRunId,
      trace_id: state.traceId,
      span_id: state.spanId,
      ...(options.trace ? { parent_span_id: options.trace.spanId } : {}),
    };
    const userText = options.messageText ?? messageOf(envelopeText);
    const historyAgent = { id: rec.id, name: rec.name, runId: goalRunId, manifest: rec.manifest };
    this.emit({ type: 'AgentExecutionStarted', ...header, message_preview: preview(userText) });
    const deadline = this.armRunDeadline(rec, state, header);
    let result: RunResult;
    try {
      let history: RunState['messages'] = [];
      if (persistent && this.opts.history) {
        const toolsJson = JSON.stringify(this.visibleTools(rec));
        const prepared = await this.opts.history.prepare(historyAgent, this.systemPrompt(rec), { message: userText, toolsJson });
        history = prepared.messages;
        state.system = prepared.system;
        state.messages.push(...history);
        state.historyLength = history.length;
      }
      const resume = options.resume ? this.replayJournal(rec, state, userText, header) : undefined;
      if (resume) state.messages.push(...resume);
      if (rec.actor.state === AgentState.Parked) await this.reactivate(rec);
      // cancelled while history was loading or the worker was starting: the mailbox had nothing to drop yet
      if (controller.isAborted) throw cancelledBeforeStart(rec, options.signal?.reason);
      const delivery: Delivery = {
        envelope: envelopeText,
        run: { run_id: runId, history, trace: { traceId: state.traceId, spanId: state.spanId }, goal_run_id: goalRunId, ...(resume ? { resume } : {}) },
        ...(options.attachments?.length ? { attachments: options.attachments } : {}),
      };
      result = (await rec.actor.deliver(delivery)) as RunResult;
      // cancelled while it ran: whatever it answered, nothing it asked for after the cancel happened
      if (controller.isAborted && result.stop_reason !== 'cancelled' && result.stop_reason !== 'error') {
        const reason: unknown = controller.signal.reason;
        result = { ...result, stop_reason: 'cancelled', error: toPlainError(isAaosError(reason) ? reason : new AaosError(ErrorCode.CANCELLED, `run ${runId} was cancelled`)) };
      }
    } catch (err) {
      result = {
        run_id: runId,
        response: '',
        stop_reason: isAaosError(err, ErrorCode.CANCELLED) ? 'cancelled' : 'error',
        iterations: 0,
        transcript: [],
        error: toPlainError(err),
      };
    } finally {
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', onOuterAbort);
      this.conversations.close(rec.id, runId);
      this.opts.skills?.endRun(rec.id, goalRunId);
    }
    if (persistent && this.opts.history && result.stop_reason !== 'error' && result.transcript.length > 0) {
      this.opts.history.commit(historyAgent, closedTranscript(result.transcript));
    }
    const usage = state.usage;
    this.emit({
      type: 'AgentExecutionCompleted',
      ...header,
      stop_reason: result.stop_reason,
      total_iterations: result.iterations,
      response_preview: preview(result.response),
      input_tokens: usage.input_tokens,
      output_tokens: usage.output_tokens,
      ...(result.error ? { error: `${result.error.code}: ${result.error.message}` } : {}),
    });
    if (persistent) this.scheduleParking(rec);
    // A failed run leaves the agent alive; the error travels in the result.
    return { ...result, agent_id: rec.id, usage: { ...usage }, elapsed_ms: Math.round(performance.now() - state.startedAt) };
  }

  /**
   * A journaled run that a previous process left unfinished: its transcript so far, with
   * results made up (and journaled) for non-idempotent calls a restart cut off. Undefined
   * when nothing was journaled (the run starts over: it had not reached its first model turn).
   */
  private replayJournal(_rec: AgentRecord, state: RunState, userText: string, header: { agent_id: string; agent_name: string; run_id: string }): RunState['messages'] | undefined {
    const journal = this.opts.journal;
    if (!journal || !state.journaled) return undefined;
    const entries = journal.load(state.runId);
    if (entries.length === 0) return undefined;
    const plan = resumeTranscript(userText, entries, (name) => this.tools.get(name)?.idempotent === true);
    for (const result of plan.interrupted) {
      journal.append(state.runId, { kind: 'tool_result', tool_use_id: result.tool_use_id, content: result.content, is_error: result.is_error });
    }
    this.emit({
      type: 'RunReplayed',
      ...header,
      model_turns: plan.modelTurns,
      tool_results: plan.messages.filter((m) => m.role === 'tool_result').length,
      calls_to_make: plan.pending.length,
      interrupted: plan.interrupted.map((r) => r.tool_use_id),
    });
    return plan.messages;
  }

  /** The run's wall-clock limit: past it, the run is cancelled with RUN_TIMEOUT and a worker that holds on is terminated. */
  private armRunDeadline(rec: AgentRecord, state: RunState, header: { agent_id: string; agent_name: string; run_id: string }): NodeJS.Timeout | undefined {
    const limitMs = this.watchdog.runTimeoutMs;
    if (limitMs <= 0) return undefined;
    const timer = setTimeout(() => {
      const err = new AaosError(
        ErrorCode.RUN_TIMEOUT,
        `run ${state.runId} of agent ${rec.name} (${rec.id}) passed its wall-clock limit of ${limitMs} ms (AAOS_RUN_TIMEOUT_MS) and was cancelled`,
        { agent_id: rec.id, run_id: state.runId, timeout_ms: limitMs },
      );
      this.emit({ type: 'RunTimedOut', ...header, timeout_ms: limitMs });
      state.controller.abort(err);
      // the worker has as long to let go of the run as it has to answer a ping
      rec.actor.expireRun(state.runId, err, this.watchdog.livenessMs > 0 ? this.watchdog.livenessMs : DEFAULT_WATCHDOG_LIMITS.livenessMs);
    }, limitMs);
    timer.unref();
    return timer;
  }

  private scheduleParking(rec: AgentRecord): void {
    const idleMs = this.opts.parkIdleMs ?? 0;
    if (idleMs <= 0) return;
    clearTimeout(this.parkTimers.get(rec.id));
    const timer = setTimeout(() => {
      this.parkTimers.delete(rec.id);
      const a = rec.actor;
      if (a.state !== AgentState.Running || a.busy > 0 || a.queued > 0 || this.shuttingDown) return;
      void a.park().then(() => this.emit({ type: 'AgentParked', ...this.header(rec), idle_ms: idleMs }));
    }, idleMs);
    timer.unref();
    this.parkTimers.set(rec.id, timer);
  }

  private async reactivate(rec: AgentRecord): Promise<void> {
    const actor = rec.actor;
    actor.unpark();
    const waitMs = Math.max(0, (this.restarts.get(rec.id)?.notBefore ?? 0) - Date.now());
    const reason = this.restarts.has(rec.id) ? `restart after its worker failed (backoff ${waitMs} ms left)` : 'message for a parked agent';
    this.emit({ type: 'AgentReactivated', ...this.header(rec), reason });
    try {
      if (waitMs > 0) await sleep(waitMs);
      await this.startWorker(rec);
    } catch (err) {
      // a worker that cannot start counts as a failure of the agent (and towards its restart limit)
      if (!isTerminal(actor.state) && actor.state !== AgentState.Stopping) {
        actor.fail(isAaosError(err) ? err : new AaosError(ErrorCode.WORKER_START_FAILED, `agent ${rec.name} (${rec.id}): ${String(err)}`));
      }
      throw err;
    }
  }

  /**
   * A persistent agent whose worker died keeps its identity, capabilities and history: it
   * gets a fresh (parked) actor and restarts on its next message after a backoff. Too many
   * failures in the window park it as failed instead. Returns false when the agent must retire.
   */
  private restartLater(rec: AgentRecord, failed: AgentActor, reason: string): boolean {
    if (rec.manifest.lifecycle !== 'persistent' || this.shuttingDown || rec.actor !== failed) return false;
    let history = this.restarts.get(rec.id);
    if (!history) {
      history = new RestartHistory(this.restartLimits);
      this.restarts.set(rec.id, history);
    }
    const decision = history.fail(Date.now());
    const { windowMs, maxFailures } = this.restartLimits;
    if (!decision.restart) {
      const err = new AaosError(
        ErrorCode.AGENT_RESTART_LIMIT,
        `agent ${rec.name} (${rec.id}) is parked as failed: its worker died ${decision.failures} times within ${windowMs} ms (AAOS_RESTART_MAX=${maxFailures}); last failure: ${reason}`,
        { agent_id: rec.id, failures: decision.failures, window_ms: windowMs },
      );
      failed.failure = err;
      this.emit({ type: 'AgentFailed', ...this.header(rec), reason: err.message, code: err.code });
      return false;
    }
    clearTimeout(this.parkTimers.get(rec.id));
    this.parkTimers.delete(rec.id);
    rec.actor = new AgentActor(rec.id, rec.name, this.actorHooks(), failed.concurrencyLimit, { livenessMs: this.watchdog.livenessMs, parked: true });
    this.emit({ type: 'AgentRestartPending', ...this.header(rec), failures: decision.failures, window_ms: windowMs, delay_ms: decision.delayMs, reason });
    return true;
  }

  private systemPrompt(rec: AgentRecord): string {
    // `{data_dir}` in a prompt names the real directory, as it does in capabilities
    const parts = [rec.manifest.system_prompt.replaceAll('{data_dir}', this.dataDir)];
    const skills = this.opts.skills;
    if (skills && this.capabilities.check(rec.id, { kind: 'tool', name: 'skill_read' })) {
      const catalog = skills.catalog();
      if (catalog) parts.push(catalog);
    }
    const addendum = this.opts.promptAddenda?.(rec.id);
    if (addendum) parts.unshift(addendum);
    return parts.filter((p) => p.length > 0).join('\n\n');
  }

  // ── worker requests ─────────────────────────────────────────────────────────

  private actorHooks() {
    return {
      onRequest: (actor: AgentActor, msg: WorkerRequest) => this.onWorkerRequest(actor, msg),
      onStateChange: (actor: AgentActor, from: AgentState, to: AgentState, reason: string) => this.onStateChange(actor, from, to, reason),
      terminate: (worker: import('node:worker_threads').Worker) => this.launcher.terminate(worker),
    };
  }

  private async onWorkerRequest(actor: AgentActor, msg: WorkerRequest): Promise<unknown> {
    const rec = this.agents.get(actor.id);
    if (!rec || isTerminal(actor.state)) throw new AaosError(ErrorCode.AGENT_STOPPED, `agent ${actor.name} is no longer live`);
    const state = msg.run_id !== undefined ? this.conversations.get(rec.id, msg.run_id) : undefined;
    // a cancelled run has no further effects, whatever its worker still asks for
    if (state?.controller.isAborted) {
      // the reason it was cancelled (a signal, a timeout, an operator) is what the run reports
      const reason: unknown = state.controller.signal.reason;
      throw isAaosError(reason) ? reason : new AaosError(ErrorCode.CANCELLED, `run ${state.runId} of agent ${rec.name} was cancelled; its '${msg.t}' request was refused`, { run_id: state.runId });
    }
    switch (msg.t) {
      case 'model':
        return this.onModelRequest(rec, msg.run_id, msg.append);
      case 'tool': {
        if (!state) throw new AaosError(ErrorCode.PROTOCOL, `agent ${rec.name} referred to unknown run ${msg.run_id}`);
        if (state.stop) throw state.stop;
        const journal = state.journaled && msg.call_id ? this.opts.journal : undefined;
        const callId = msg.call_id;
        const call = dispatchTool(this.toolDeps(), {
          agent: rec,
          runId: msg.run_id,
          goalRunId: state.goalRunId,
          traceId: state.traceId,
          spanId: state.spanId,
          workspace: state.workspace,
          signal: state.controller.signal,
          name: msg.name,
          input: msg.input,
          ...(msg.handle ? { handle: msg.handle } : {}),
          ...(msg.call_id ? { callId: msg.call_id } : {}),
          // durable before the tool runs (after its approval): a restart must know this call may have taken effect
          ...(journal && callId ? { beforeInvoke: () => journal.append(state.runId, { kind: 'tool_started', tool_use_id: callId, name: msg.name }) } : {}),
        });
        // a denied call is counted by the capability table, not by the repeat guard
        void call.then(
          () => this.countRepeat(rec, state, msg.name, msg.input),
          (err: unknown) => {
            if (!isDenial(err)) this.countRepeat(rec, state, msg.name, msg.input);
          },
        );
        return call;
      }
      case 'send':
        return this.router.send(this.routerAgent(rec, state), msg.envelope, msg.attachments);
      case 'request':
        return this.router.request(this.routerAgent(rec, state), msg.envelope, msg.timeout_ms, msg.attachments);
    }
  }

  private requireRun(rec: AgentRecord, runId: string): RunState {
    const state = this.conversations.get(rec.id, runId);
    if (!state) throw new AaosError(ErrorCode.PROTOCOL, `agent ${rec.name} referred to unknown run ${runId}`);
    return state;
  }

  /**
   * The tool repeat guard: a model that calls one tool with the same input again and again
   * is looping. When a run has made the same call (not denied) `toolRepeatThreshold` times,
   * its next tool and model calls are refused, so it ends with stop reason `tool_repeat`.
   */
  private countRepeat(rec: AgentRecord, state: RunState, tool: string, input: unknown): void {
    const threshold = this.opts.toolRepeatThreshold ?? 3;
    if (threshold <= 0 || state.stop) return;
    const inputHash = hashInput(input);
    const key = `${tool}\u0000${inputHash}`;
    const count = (state.toolRepeats.get(key) ?? 0) + 1;
    state.toolRepeats.set(key, count);
    if (count < threshold) return;
    state.stop = new AaosError(
      ErrorCode.TOOL_REPEAT,
      `agent ${rec.name} called tool '${tool}' with the same input ${count} times in one run; stopped by the tool repeat guard (threshold ${threshold})`,
      { agent_id: rec.id, tool, input_hash: inputHash, attempt_count: count },
    );
    this.emit({ type: 'ToolRepeatGuardFired', ...this.header(rec), run_id: rec.runId ?? state.runId, trace_id: state.traceId, tool, input_hash: inputHash, attempt_count: count });
  }

  private async onModelRequest(rec: AgentRecord, runId: string, append: RunState['messages']): Promise<ModelResponse> {
    const state = this.requireRun(rec, runId);
    if (state.stop) throw state.stop;
    state.messages.push(...append);
    if (state.journaled) {
      for (const m of append) {
        if (m.role === 'tool_result') this.opts.journal?.append(state.runId, { kind: 'tool_result', tool_use_id: m.tool_use_id, content: m.content, is_error: m.is_error });
      }
    }
    const tools = this.visibleTools(rec);
    const response = await this.opts.models.complete(
      { ...this.identity(rec), runId: state.goalRunId, traceId: state.traceId, spanId: state.spanId },
      rec.manifest.model,
      {
        system: (state.system ??= this.systemPrompt(rec)),
        messages: state.messages,
        tools,
        max_tokens: this.opts.maxOutputTokens ?? 4096,
        signal: state.controller.signal,
      },
      {
        agent_id: rec.id,
        agent_name: rec.name,
        run_id: state.goalRunId,
        data_dir: this.dataDir,
        ...(state.workspace ? { workspace: state.workspace } : {}),
        metadata: rec.manifest.metadata,
      },
    );
    // journaled before the agent sees it: a resumed run continues after this turn, never re-asks it
    if (state.journaled) this.opts.journal?.append(state.runId, { kind: 'assistant', content: response.content });
    recordAssistant(state, response);
    return response;
  }

  /** The tools a model is shown: those the agent holds `tool:` for right now (revocation hides them at once). */
  private visibleTools(rec: AgentRecord) {
    const check = this.capabilities.checker(rec.id);
    return this.tools.definitions((name) => check({ kind: 'tool', name }));
  }

  private toolDeps() {
    return {
      registry: this.tools,
      capabilities: this.capabilities,
      emit: (e: AuditInput) => this.emit(e),
      dataDir: this.dataDir,
      approvals: this.opts.approvals,
      skills: this.opts.skills,
      spawnAndRun: (parent: AgentRecord, call: ToolCall, yaml: string, message: string, trace: TraceParent) =>
        this.spawnChildAndRun(parent, call, yaml, message, trace),
    };
  }

  /** `tool.invoke` from the socket API: the same path a worker's call takes, approval included. */
  async invokeTool(agentId: string, tool: string, input: unknown, options: { signal?: AbortSignal } = {}): Promise<unknown> {
    const rec = this.agents.require(agentId);
    if (rec.actor.state !== AgentState.Running && rec.actor.state !== AgentState.Parked) {
      throw new AaosError(ErrorCode.AGENT_NOT_RUNNING, `agent ${rec.name} is ${rec.actor.state}; tools can only be invoked for a live agent`, {
        agent_id: rec.id,
        state: rec.actor.state,
      });
    }
    const runId = `api-${randomUUID()}`;
    return dispatchTool(this.toolDeps(), {
      agent: rec,
      runId,
      goalRunId: rec.runId,
      traceId: newTraceId(),
      spanId: newSpanId(),
      workspace: rec.workspace,
      signal: options.signal ?? new AbortController().signal,
      name: tool,
      input,
    });
  }

  /**
   * spawn_agent: parse the child's manifest, then the one child path (`runChild`). A child
   * whose run ended in error (a model or API failure, not a wrong answer) is run again as a
   * new agent with the same manifest and message, up to `spawnRetries` times.
   */
  private async spawnChildAndRun(parent: AgentRecord, call: ToolCall, manifestYaml: string, message: string, trace: TraceParent): Promise<ChildRunResult> {
    // a cancelled run spawns nothing more (siblings of a spawn_agents batch reach here one by one)
    if (call.signal.aborted) throw cancelledBeforeStart(parent, call.signal.reason);
    const parentRef = { ...this.agentRef(parent), ...(call.goalRunId ? { runId: call.goalRunId } : {}) };
    // every file the manifest names is read with the parent's authority (or from a prompts root)
    const manifest = this.manifests.parse(
      manifestYaml,
      `<spawn_agent from ${parent.name}>`,
      parent.manifest.source.base_dir,
      this.manifestFiles.checkFor(parentRef, call.name),
    );
    const options: ChildRunOptions = {
      via: call.name,
      trace,
      signal: call.signal,
      ...(call.goalRunId ? { runId: call.goalRunId } : {}),
      ...(call.workspace ? { workspace: call.workspace } : {}),
    };
    let result = await this.runChild(parent.id, manifest, message, options);
    const retries = this.opts.spawnRetries ?? 1;
    let originalError: string | undefined;
    for (let attempt = 1; attempt <= retries && result.stop_reason === 'error' && !call.signal.aborted; attempt++) {
      originalError ??= result.error ?? 'error';
      this.emit({
        type: 'ChildRetried',
        ...this.header(parent),
        ...(call.goalRunId ? { run_id: call.goalRunId } : {}),
        child_name: manifest.name,
        attempt,
        original_error: result.error ?? 'error',
      });
      result = await this.runChild(parent.id, manifest, message, options);
    }
    return originalError === undefined ? result : { ...result, retried: true, original_error: originalError };
  }

  /**
   * The one way a child comes to exist with authority: spawn_child is checked against the
   * parent, every capability is narrowed to a parent token, the child runs `message` and is
   * stopped when it answers. spawn_agent and plan subtasks both come through here.
   */
  async runChild(parentId: string, manifest: AgentManifest, message: string, options: ChildRunOptions): Promise<ChildRunResult> {
    const parent = this.agents.require(parentId);
    this.capabilities.authorize(
      { ...this.agentRef(parent), ...(options.runId ? { runId: options.runId } : {}) },
      { kind: 'spawn_child', name: manifest.name },
      { tool: options.via, ...(options.trace ? { traceId: options.trace.traceId, spanId: options.trace.spanId } : {}) },
    );
    // cluster: placed on another node, narrowed here all the same
    const node = this.remote?.placeChild(manifest);
    if (node !== undefined) return this.runRemoteChild(parent, manifest, message, options, node);
    const child = await this.spawnRecord(manifest, {
      // cancelled while waiting for a worker slot: the worker is never booted
      signal: options.signal,
      parentId: parent.id,
      ...(options.trace ? { trace: options.trace } : {}),
      ...(options.runId ? { runId: options.runId } : {}),
      ...(options.workspace ? { workspace: options.workspace } : {}),
    });
    options.onSpawned?.(child.id);
    return this.runAndStop(child, message, options);
  }

  /**
   * A child placed on another node: narrowed here exactly as a local child (its tokens stay
   * here under its id, so a revocation of the parent's token reaches them), then run there
   * with copies of those tokens.
   */
  private async runRemoteChild(parent: AgentRecord, parsed: AgentManifest, message: string, options: ChildRunOptions, node: string): Promise<ChildRunResult> {
    const manifest = inheritApprovals(parsed, parent.manifest);
    const child: AgentRef = { id: randomUUID(), name: manifest.name, parentId: parent.id, ...(options.runId ? { runId: options.runId } : {}) };
    const grants = expandCapabilities(manifest, { data_dir: this.dataDir, ...(options.workspace ? { workspace: options.workspace } : {}) }, Date.now());
    const tokens = this.capabilities.delegate({ ...this.agentRef(parent), ...(options.runId ? { runId: options.runId } : {}) }, child, grants, options.trace);
    options.onSpawned?.(child.id);
    const spawn: RemoteSpawn = { child, manifest, depth: parent.depth + 1, tokens, message, ...(options.trace ? { trace: options.trace } : {}), ...(options.workspace ? { workspace: options.workspace } : {}) };
    try {
      return await this.remote!.runChild(node, spawn, options.signal);
    } finally {
      this.capabilities.revokeAll(child.id, 'its run on another node ended');
      this.capabilities.forget(child.id);
    }
  }

  /** A child whose parent lives on another node: spawned here with the tokens narrowed there, run, stopped. */
  async runAdoptedChild(spawn: RemoteSpawn, signal: AbortSignal): Promise<ChildRunResult> {
    const options = { signal, via: 'spawn from another node', ...(spawn.trace ? { trace: spawn.trace } : {}), ...(spawn.workspace ? { workspace: spawn.workspace } : {}) };
    const child = await this.spawnRecord(spawn.manifest, {
      ...options,
      id: spawn.child.id,
      adopted: { parentId: spawn.child.parentId ?? '', depth: spawn.depth, tokens: spawn.tokens },
      ...(spawn.child.runId ? { runId: spawn.child.runId } : {}),
    });
    return this.runAndStop(child, spawn.message, options);
  }

  private async runAndStop(child: AgentRecord, message: string, options: Pick<ChildRunOptions, 'signal' | 'trace' | 'workspace'>): Promise<ChildRunResult> {
    try {
      // cancelled (or timed out) while the child's worker was starting: it runs nothing
      if (options.signal.aborted) throw new AaosError(ErrorCode.CANCELLED, `child ${child.name} was cancelled before it ran`, { agent_id: child.id });
      const result = await this.run(child.id, message, { signal: options.signal, ...(options.trace ? { trace: options.trace } : {}), ...(options.workspace ? { workspace: options.workspace } : {}) });
      return {
        agent_id: child.id,
        name: child.name,
        response: result.response,
        stop_reason: result.stop_reason,
        iterations: result.iterations,
        usage: result.usage,
        error: result.error ? `${result.error.code}: ${result.error.message}` : null,
        ...(result.error ? { error_code: result.error.code } : {}),
      };
    } finally {
      await this.stop(child.id, 'completed');
    }
  }

  // ── lifecycle ───────────────────────────────────────────────────────────────

  pause(agentId: string): void {
    this.agents.require(agentId).actor.pause();
  }

  resume(agentId: string): void {
    this.agents.require(agentId).actor.resume();
  }

  /** Stop an agent and its subtree; revokes its tokens. Idempotent for live ids. */
  async stop(agentId: string, reason = 'user_requested'): Promise<void> {
    const rec = this.agents.get(agentId);
    if (!rec) return;
    await this.retire(rec, reason, 'stopped');
  }

  private async retire(rec: AgentRecord, reason: string, how: 'stopped' | 'failed'): Promise<void> {
    for (const childId of [...rec.children]) await this.stop(childId, `parent ${rec.name} ${how}: ${reason}`);
    for (const state of this.conversations.ofAgent(rec.id)) state.controller.abort(new AaosError(ErrorCode.AGENT_STOPPED, reason));
    this.router.cancelFrom(rec.id, undefined, `agent ${rec.name} ${how}: ${reason}`);
    this.opts.models.cancelAgent(rec.id);
    clearTimeout(this.parkTimers.get(rec.id));
    this.parkTimers.delete(rec.id);
    if (how === 'stopped') await rec.actor.stop(reason);
    this.capabilities.revokeAll(rec.id, how === 'stopped' ? `agent stopped: ${reason}` : `agent failed: ${reason}`);
    this.capabilities.forget(rec.id);
    this.opts.models.releaseAgent(rec.id);
    this.opts.skills?.endAgent(rec.id);
    this.opts.history?.release(rec.id);
    this.restarts.delete(rec.id);
    const info = this.info(rec);
    this.agents.remove(rec.id);
    this.ended.set(rec.id, info);
    if (this.ended.size > ENDED_KEEP) this.ended.delete(this.ended.keys().next().value as string);
    if (how === 'stopped') this.emit({ type: 'AgentStopped', ...this.header(rec), reason });
  }

  private onStateChange(actor: AgentActor, from: AgentState, to: AgentState, reason: string): void {
    const rec = this.agents.get(actor.id);
    if (!rec) return;
    if (from !== to && !(from === 'starting' && to === 'running')) {
      this.emit({ type: 'AgentStateChanged', ...this.header(rec), from, to });
    }
    if (to === AgentState.Failed) {
      this.emit({ type: 'AgentFailed', ...this.header(rec), reason, code: actor.failure?.code ?? ErrorCode.AGENT_FAILED });
      if (!this.restartLater(rec, actor, reason)) void this.retire(rec, actor.failure?.message ?? reason, 'failed');
    }
  }

  // ── queries ─────────────────────────────────────────────────────────────────

  list(): AgentInfo[] {
    return this.agents.all().map((r) => this.info(r));
  }

  status(agentId: string): AgentInfo {
    const rec = this.agents.get(agentId);
    if (rec) return this.info(rec);
    const ended = this.ended.get(agentId);
    if (ended) return ended;
    throw new AaosError(ErrorCode.AGENT_NOT_FOUND, `no agent with id '${agentId}'`, { agent_id: agentId });
  }

  /** Status plus what the worker reports about itself (heap, active deliveries, env size). */
  async inspect(agentId: string): Promise<AgentInfo & { worker: WorkerStats | null }> {
    const info = this.status(agentId);
    const rec = this.agents.get(agentId);
    return { ...info, worker: (await rec?.actor.stats()) ?? null };
  }

  private info(rec: AgentRecord): AgentInfo {
    return {
      id: rec.id,
      name: rec.name,
      model: rec.manifest.model,
      state: rec.actor.state,
      lifecycle: rec.manifest.lifecycle,
      parent_id: rec.parentId ?? null,
      depth: rec.depth,
      created_at: rec.createdAt,
      capability_count: this.capabilities.list(rec.id).filter((t) => !t.revoked_at).length,
      queued: rec.actor.queued,
      busy: rec.actor.busy,
      ...(rec.actor.failure ? { failure: rec.actor.failure.message } : {}),
    };
  }

  // ── shutdown ────────────────────────────────────────────────────────────────

  /** Refuse new work, cancel runs, stop every agent (terminations are serialised), flush the audit log. */
  async shutdown(reason = 'shutdown'): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    const roots = this.agents.all().filter((r) => !r.parentId || !this.agents.get(r.parentId));
    for (const rec of roots) await this.stop(rec.id, reason);
    for (const rec of this.agents.all()) await this.stop(rec.id, reason);
    await this.launcher.close();
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  // ── helpers ─────────────────────────────────────────────────────────────────

  private agentRef(rec: AgentRecord): AgentRef {
    return { id: rec.id, name: rec.name, ...(rec.parentId ? { parentId: rec.parentId } : {}), ...(rec.runId ? { runId: rec.runId } : {}) };
  }

  /**
   * The sender as the router sees it: from a run, it carries that run's goal run, its delivery
   * (so cancelling the run cancels its requests) and its span (`trace`: a tool call's span when
   * it sends from a tool, else the delivery's), which the message hop continues.
   */
  private routerAgent(rec: AgentRecord, state?: RunState, trace?: TraceParent): RouterAgent {
    const runId = state?.goalRunId ?? rec.runId;
    const span = trace ?? (state ? { traceId: state.traceId, spanId: state.spanId } : undefined);
    return {
      id: rec.id,
      name: rec.name,
      ...(rec.parentId ? { parentId: rec.parentId } : {}),
      ...(runId ? { runId } : {}),
      ...(state ? { deliveryRunId: state.runId } : {}),
      ...(span ? { trace: span } : {}),
    };
  }

  /** The router's view of an agent calling from one of its runs (tools such as ask_agent), in the tool call's span. */
  callerOf(agentId: string, deliveryRunId: string | undefined, trace?: TraceParent): RouterAgent {
    const rec = this.agents.require(agentId);
    return this.routerAgent(rec, deliveryRunId !== undefined ? this.conversations.get(agentId, deliveryRunId) : undefined, trace);
  }

  private identity(rec: AgentRecord): AgentIdentity {
    return this.agentRef(rec);
  }

  private header(rec: AgentRecord): { agent_id: string; agent_name: string; parent_id?: string; run_id?: string } {
    return {
      agent_id: rec.id,
      agent_name: rec.name,
      ...(rec.parentId ? { parent_id: rec.parentId } : {}),
      ...(rec.runId ? { run_id: rec.runId } : {}),
    };
  }
}

/** A refusal by the capability table or a human: not the model looping on a tool. */
function isDenial(err: unknown): boolean {
  const code = isAaosError(err) ? err.code : '';
  return code.startsWith('AAOS_ERR_CAPABILITY_') || code === ErrorCode.APPROVAL_DENIED || code === ErrorCode.APPROVAL_TIMEOUT;
}

/** CANCELLED for work that a cancelled run asked for but that never started. */
function cancelledBeforeStart(rec: AgentRecord, reason: unknown): AaosError {
  const why = isAaosError(reason) ? reason.message : 'cancelled';
  return new AaosError(ErrorCode.CANCELLED, `not started for agent ${rec.name}: its run was cancelled (${why})`, { agent_id: rec.id });
}

function messageOf(envelopeText: string): string {
  try {
    const env = JSON.parse(envelopeText) as { params?: { message?: unknown } };
    const m = env.params?.message;
    return typeof m === 'string' ? m : envelopeText;
  } catch {
    return envelopeText;
  }
}
