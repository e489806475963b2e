import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ApprovalQueue } from '../approvals/approval-queue.js';
import { AuditLog } from '../audit/audit-log.js';
import type { AuditEvent } from '../audit/event.js';
import { NdjsonSink } from '../audit/ndjson-sink.js';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { Config } from '../config/config.js';
import type { SettingName, SettingValue } from '../config/settings.js';
import { VERSION } from '../cli/version.js';
import { Tracing, tracingSettings } from '../telemetry/tracing.js';
import { AaosError, ErrorCode, toPlainError } from '../errors/index.js';
import type { WorkerStats } from '../agent/control.js';
import type { AgentInfo } from '../kernel/agent-table.js';
import type { TokenView } from '../capability/capability-token.js';
import { PROJECT_ROOT } from '../config/built-path.js';
import { Supervisor, type RunOptions } from '../kernel/supervisor.js';
import { parseManifest, readManifestSource } from '../manifest/parse.js';
import { embedderFromEnv } from '../memory/embedder-from-env.js';
import { MemoryStore } from '../memory/memory-store.js';
import { createMemoryTools } from '../memory/tools.js';
import { ModelGateway } from '../providers/gateway.js';
import type { ToolDefinition } from '../providers/model.js';
import type { RunOutcome } from '../protocol/index.js';
import { Orchestrator, orchestrationSettings, type Orchestration } from '../orchestration/orchestrator.js';
import type { PlanViewRecord } from '../orchestration/plan-view.js';
import { RoleCatalog, roleDirs } from '../orchestration/role-catalog.js';
import { GoalRunner, type GoalHandle } from '../runs/goal-runner.js';
import { SkillActivations } from '../skills/activations.js';
import { skillRoots, type SkillProblem } from '../skills/loader.js';
import { SkillRegistry } from '../skills/registry.js';
import { createSkillReadTool } from '../skills/skill-read-tool.js';
import { AgentStore, type AgentRecord } from '../store/agent-store.js';
import { ApprovalStore } from '../store/approval-store.js';
import { AuditStore } from '../store/audit-store.js';
import { CapabilityStore } from '../store/capability-store.js';
import { openStore, type Store } from '../store/lmdb-env.js';
import { makePrivateDir, makePrivateFiles } from '../store/private-files.js';
import { RunStore, type RunRecord, type RunState } from '../store/run-store.js';
import { SessionStore } from '../store/session-store.js';
import { closeIoPool } from '../tools/fs/index.js';
import { McpClients } from '../mcp/mcp-clients.js';
import type { McpServerStatus } from '../mcp/mcp-clients.js';
import { loadMcpServers } from '../mcp/server-config.js';
import { builtinTools } from './builtin-tools.js';
import { episodicGate } from './episodic-gate.js';
import { manifestDigest, planBootstrapSuccession } from './bootstrap-succession.js';
import { AgentManifests } from './ports/agent-manifests.js';
import { QueueApprovalPort } from './ports/approval-port.js';
import { RegistrySkillsPort } from './ports/skills-port.js';
import { SessionHistory } from './session-history.js';
import type { ApprovalDesk, AuditFeed, RuntimeHealth } from './views.js';
import type { HistoryEntry } from '../context/history-entry.js';
import type { MemoryView } from '../memory/memory-record.js';
import type { DurableTokenState } from '../capability/capability-table.js';
import { watchdogLimitsFromEnv } from '../kernel/watchdog.js';
import { restartLimitsFromEnv } from '../kernel/restart-policy.js';
import { RunJournal } from '../store/run-journal.js';

export interface RuntimeOptions {
  dataDir: string;
  /** the settings parsed at start; default: parsed here from `env` */
  config?: Config;
  /** used when `config` is not given (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** where audit events go as NDJSON besides the in-memory log (e.g. process.stdout) */
  auditStream?: NodeJS.WritableStream;
  maxAgents?: number;
  maxDepth?: number;
  maxConcurrentGoals?: number;
  /** pre-started workers kept ready for spawns (default AAOS_WARM_WORKERS or 0) */
  warmWorkers?: number;
  /** send spans here (tests: an in-memory exporter) instead of to the OTLP endpoint, if tracing is not disabled */
  traceExporter?: SpanExporter;
  /** operator diagnostics (the daemon's stderr): store degraded / recovered */
  log?: (line: string) => void;
}

/** The Runtime's parts (private to it; `internalsForTests` hands them to tests and benches). */
export interface RuntimeParts {
  supervisor: Supervisor;
  gateway: ModelGateway;
  store: Store;
  runStore: RunStore;
  /** goal runs' journals (resume after a restart; a cluster node copies them to JetStream) */
  journal: RunJournal;
  goals: GoalRunner;
  audit: AuditLog;
  auditStore: AuditStore;
  agentStore: AgentStore;
  sessions: SessionStore;
  memory: MemoryStore;
  approvalQueue: ApprovalQueue;
  skills: SkillRegistry;
  config: Config;
  tracing: Tracing | undefined;
  mcp: McpClients;
  orchestrator: Orchestrator;
}

const DAY_MS = 86_400_000;
/** memories embedded per call when an agent's state is restored */
const EMBED_BATCH = 32;

/** What `Runtime.start` brought back from a previous process. */
export interface StartReport {
  /** the bootstrap agent, and the ids of stored bootstrap agents a changed manifest replaced */
  bootstrap?: { id: string; retired: string[] };
  restored: string[];
  failed: Array<{ id: string; name: string; reason: string }>;
  resumed: RunRecord[];
  interrupted: RunRecord[];
}

/**
 * The composition root: one supervisor with its providers, tools and stores,
 * plus the goal runner. `agentd run`, the daemon and the tests build it here.
 * Everything durable lives in one LMDB environment under the data dir.
 */
export class Runtime {
  // The parts are private: the daemon, CLI, console, HTTP and cluster wiring talk to the
  // methods below (test/runtime/facade.test.ts keeps it so); adapters built in `open` get
  // the parts they need by construction.
  private readonly supervisor: Supervisor;
  private readonly gateway: ModelGateway;
  private readonly store: Store;
  private readonly runStore: RunStore;
  private readonly journal: RunJournal;
  private readonly goals: GoalRunner;
  private readonly audit: AuditLog;
  private readonly auditStore: AuditStore;
  private readonly agentStore: AgentStore;
  private readonly sessions: SessionStore;
  private readonly memory: MemoryStore;
  private readonly approvalQueue: ApprovalQueue;
  private readonly skills: SkillRegistry;
  private readonly config: Config;
  /** OpenTelemetry traces, when an endpoint is set (undefined otherwise: nothing is made) */
  private readonly tracing: Tracing | undefined;
  /** MCP servers declared for the daemon (AAOS_MCP_SERVERS), their tools registered as mcp.<server>.<tool> */
  private readonly mcp: McpClients;
  /** roles, planner and plan executor (computed orchestration) */
  private readonly orchestrator: Orchestrator;
  private closed = false;
  /** why the runtime cannot serve everything it should (health reports `degraded` with these) */
  private readonly problems = new Map<string, string>();

  private constructor(parts: RuntimeParts) {
    this.supervisor = parts.supervisor;
    this.gateway = parts.gateway;
    this.store = parts.store;
    this.runStore = parts.runStore;
    this.journal = parts.journal;
    this.goals = parts.goals;
    this.audit = parts.audit;
    this.auditStore = parts.auditStore;
    this.agentStore = parts.agentStore;
    this.sessions = parts.sessions;
    this.memory = parts.memory;
    this.approvalQueue = parts.approvalQueue;
    this.skills = parts.skills;
    this.config = parts.config;
    this.tracing = parts.tracing;
    this.mcp = parts.mcp;
    this.orchestrator = parts.orchestrator;
  }

  /** Reasons `system.health` reports `degraded`, oldest first (`health().problems`). */
  private get healthProblems(): string[] {
    const store = this.store.health();
    // while store writes fail (full disk): goals are refused until a write succeeds again
    const fromStore = store.writable
      ? []
      : [
          `${store.reason ?? 'store writes fail'} since ${store.since ?? '?'}; goals are refused until a write succeeds`,
        ];
    return [...this.problems.values(), ...fromStore];
  }

  /** Records (or with `reason` undefined, clears) one health problem under a stable key. */
  private setProblem(key: string, reason: string | undefined): void {
    if (reason === undefined) this.problems.delete(key);
    else this.problems.set(key, reason);
  }

  /** Problems found while loading skills (each skipped skill, with file and reason). */
  get skillProblems(): readonly SkillProblem[] {
    return this.skills.problems;
  }

  get dataDir(): string {
    return this.supervisor.dataDir;
  }

  static async open(options: RuntimeOptions): Promise<Runtime> {
    const config = options.config ?? Config.load({ env: options.env ?? process.env });
    const env = config.env as NodeJS.ProcessEnv;
    const dataDir = resolve(options.dataDir);
    // a bad MCP declaration is refused before anything is opened
    const mcpServers = loadMcpServers(config.get('AAOS_MCP_SERVERS'));
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // private to the daemon's user even when the directory existed before with a looser mode
    makePrivateDir(dataDir, 'data dir');
    const audit = new AuditLog(config.get('AAOS_AUDIT_LOG_CAP'));
    const emit = audit.emit.bind(audit);
    const store = openStore(dataDir, {
      probeMs: config.get('AAOS_STORE_PROBE_MS'),
      minFreeBytes: config.get('AAOS_STORE_MIN_FREE_MB') * 1024 * 1024,
      onHealthChange: (h) =>
        options.log?.(
          h.writable
            ? `agentd: store writes work again; goals are taken again`
            : `agentd: degraded: ${h.reason}; goals are refused until a write succeeds`,
        ),
      ...(options.log ? { onCloseAbandoned: (m: string) => options.log!(`agentd: ${m}`) } : {}),
      onInvalid: (issue) =>
        emit({
          type: 'SessionStoreError',
          agent_id: 'supervisor',
          agent_name: 'supervisor',
          operation: `read ${issue.db}`,
          message: `record ${String(issue.key)} is unreadable and was skipped: ${issue.reason}`,
        }),
    });
    // LMDB creates data.mdb and lock.mdb 0644: private too (memories, sessions and audit live there)
    makePrivateDir(store.path, 'store dir');
    makePrivateFiles(store.path);
    // the durable audit log first, so `logs` works after a restart; then the live stream
    const auditStore = new AuditStore(store, {
      maxCount: config.get('AAOS_AUDIT_MAX_EVENTS'),
      maxAgeMs: config.get('AAOS_AUDIT_MAX_AGE_DAYS') * DAY_MS,
    });
    audit.addSink({ write: (e) => void auditStore.append(e), close: () => auditStore.settle() });
    if (options.auditStream) audit.addSink(NdjsonSink.toStream(options.auditStream as never));
    // an append-only NDJSON copy for log shippers (AAOS_AUDIT_FILE)
    const auditFile = config.get('AAOS_AUDIT_FILE');
    if (auditFile) audit.addSink(NdjsonSink.toFile(auditFile));

    const tracing = Tracing.start({
      settings: tracingSettings(config),
      audit,
      version: VERSION,
      ...(options.traceExporter ? { exporter: options.traceExporter } : {}),
    });
    const gateway = new ModelGateway({ env, emit, ...(tracing ? { inSpan: tracing.inSpan } : {}) });
    const runs = new RunStore(store);
    const journal = new RunJournal(store);
    const agentStore = new AgentStore(store);
    const sessions = new SessionStore(store);
    const embedder = embedderFromEnv(env);
    const memory = new MemoryStore(store, embedder, {
      maxRecordsPerAgent: config.get('AAOS_MEMORY_MAX_RECORDS_PER_AGENT'),
    });
    const skills = await SkillRegistry.load(skillRoots(env));
    const approvals = new ApprovalQueue({
      persistence: new ApprovalStore(store),
      emit,
      defaultTimeoutMs: config.get('AAOS_APPROVAL_TIMEOUT_MS'),
    });
    const recoveredApprovals = approvals.recover();
    const maxOutputTokens = config.get('AAOS_MAX_OUTPUT_TOKENS');

    // skill activations and memory tools are built before the supervisor and read its manifests
    const manifests = new AgentManifests();
    const activations = new SkillActivations({
      onActivate: (agentId, runId, skill) => emit(manifests.skillActivated(agentId, runId, skill)),
    });
    const memoryTools = createMemoryTools({
      store: memory,
      embedder,
      emit,
      limitsFor: (agentId) => manifests.memoryLimits(agentId),
    }).map((tool) => episodicGate(tool, (agentId) => manifests.episodicEnabled(agentId)));

    const supervisor: Supervisor = new Supervisor({
      dataDir,
      models: gateway,
      audit,
      tools: [...builtinTools(env, () => supervisor), ...memoryTools, createSkillReadTool(skills, activations)],
      maxAgents: options.maxAgents ?? config.get('AAOS_MAX_AGENTS'),
      maxDepth: options.maxDepth ?? config.get('AAOS_MAX_SPAWN_DEPTH'),
      maxOutputTokens,
      parkIdleMs: config.get('AAOS_PARK_IDLE_MS'),
      warmWorkers: options.warmWorkers ?? config.get('AAOS_WARM_WORKERS'),
      workerNice: config.get('AAOS_WORKER_NICE'),
      spawnRetries: config.get('AAOS_SPAWN_RETRIES'),
      toolRepeatThreshold: config.get('AAOS_TOOL_REPEAT_THRESHOLD'),
      promptRoots: [join(PROJECT_ROOT, 'manifests'), ...config.get('AAOS_PROMPT_ROOTS').map((r) => resolve(r))],
      maxMessageBytes: config.get('AAOS_MESSAGE_MAX_BYTES'),
      mailboxMax: config.get('AAOS_MAILBOX_MAX'),
      watchdog: watchdogLimitsFromEnv(env),
      restarts: restartLimitsFromEnv(env),
      journal,
      history: new SessionHistory({ sessions, gateway, emit, dataDir, maxOutputTokens }),
      approvals: new QueueApprovalPort(approvals, recoveredApprovals),
      skills: new RegistrySkillsPort(skills, activations, memory),
    });
    manifests.bind((agentId) => supervisor.manifestOf(agentId));
    // explicit revocations and max_invocations counters of persistent agents outlive the process
    supervisor.setTokenPersistence(new CapabilityStore(store));
    // a server that fails to connect is reported by name and retried; the daemon goes on
    const mcp = new McpClients(mcpServers, { registry: supervisor.tools, emit, path: config.get('PATH') });
    await mcp.start();
    const roles = await RoleCatalog.load(roleDirs(env));
    const orchestrator = new Orchestrator({
      supervisor,
      models: gateway,
      catalog: roles,
      emit,
      settings: orchestrationSettings(env),
    });
    const goals = new GoalRunner({
      supervisor,
      runs,
      emit,
      orchestrator,
      maxConcurrent: options.maxConcurrentGoals ?? config.get('AAOS_MAX_CONCURRENT_GOALS'),
      storeHealth: () => store.health(),
      journal,
    });
    return new Runtime({
      supervisor,
      gateway,
      store,
      runStore: runs,
      journal,
      goals,
      audit,
      auditStore,
      agentStore,
      sessions,
      memory,
      approvalQueue: approvals,
      skills,
      config,
      tracing,
      mcp,
      orchestrator,
    });
  }

  /**
   * Spawn an agent from manifest YAML or a manifest file. Persistent agents are
   * recorded so they come back with the same id (history, memory) after a restart.
   */
  async spawnAgent(
    source: { yaml: string; baseDir?: string } | { path: string; text?: string },
    options: {
      id?: string;
      concurrency?: number;
      parked?: boolean;
      /** a built agent module other than the LLM loop (tests: scripted command agents) */
      module?: string;
      record?: Pick<AgentRecord, 'role' | 'manifest_digest'>;
    } = {},
  ): Promise<AgentInfo> {
    const path = 'path' in source ? resolve(source.path) : undefined;
    const yaml = 'path' in source ? (source.text ?? readManifestSource(source.path).text) : source.yaml;
    const manifest = path
      ? parseManifest(yaml, { file: path })
      : parseManifest(yaml, {
          file: '<inline>',
          ...((source as { baseDir?: string }).baseDir ? { baseDir: (source as { baseDir: string }).baseDir } : {}),
        });
    const { record, ...spawnOptions } = options;
    const info = await this.supervisor.spawn(manifest, spawnOptions);
    if (manifest.lifecycle === 'persistent') {
      this.agentStore.put({
        id: info.id,
        name: info.name,
        manifest_yaml: yaml,
        ...(path ? { manifest_path: path } : {}),
        state: info.state,
        created_at: info.created_at,
        model: manifest.model,
        ...record,
      });
    }
    return info;
  }

  /**
   * Audit events of one run or agent from the durable log, oldest first (also those of
   * earlier processes: `logs` after a restart). Synchronous, so a caller can subscribe to
   * live events in the same step without a gap or a duplicate.
   */
  auditHistory(filter: { runId?: string; agentId?: string }, max = 10_000): AuditEvent[] {
    const out: AuditEvent[] = [];
    let afterKey: number | undefined;
    while (out.length < max) {
      const page = this.auditStore.query({
        ...filter,
        ...(afterKey !== undefined ? { afterKey } : {}),
        limit: Math.min(1000, max - out.length),
      });
      if (page.length === 0) break;
      for (const stored of page) out.push(stored.event as unknown as AuditEvent);
      afterKey = page[page.length - 1]!.key;
    }
    return out;
  }

  /** The newest `n` stored events of a run or an agent that `accept` keeps, oldest first (`logs --tail`). */
  auditTail(
    filter: { runId?: string; agentId?: string },
    n: number,
    accept?: (event: AuditEvent) => boolean,
  ): AuditEvent[] {
    const keep = accept ? (e: Record<string, unknown>) => accept(e as unknown as AuditEvent) : undefined;
    return this.auditStore.latest({ ...filter, limit: n }, keep).map((s) => s.event as unknown as AuditEvent);
  }

  /** Stop an agent; a persistent one is forgotten (not restored on the next start). */
  async stopAgent(agentId: string, reason = 'user_requested'): Promise<void> {
    this.supervisor.status(agentId); // AGENT_NOT_FOUND for an unknown id
    await this.supervisor.stop(agentId, reason);
    if (agentId === this.goals.agent) {
      const why = `the bootstrap agent ${agentId} was stopped (${reason}): goals are refused until agentd restarts`;
      this.goals.clearAgent(why);
      this.setProblem('bootstrap', why);
    }
    this.agentStore.remove(agentId);
    new CapabilityStore(this.store).remove(agentId);
  }

  /**
   * Holds an agent's mailbox: messages to it queue (bounded by AAOS_MAILBOX_MAX) and wait
   * for resumeAgent; what it is handling already goes on. Not kept across a restart.
   */
  pauseAgent(agentId: string): AgentInfo {
    const info = this.supervisor.status(agentId);
    if (info.state === 'paused') {
      throw new AaosError(
        ErrorCode.INVALID_STATE_TRANSITION,
        `agent ${info.name} (${info.id}) is already paused; resume it with agentd resume ${info.id}`,
        { agent_id: info.id, from: info.state, to: 'paused' },
      );
    }
    if (info.state !== 'running') {
      const why = info.state === 'parked' ? ' (idle with no worker: it handles nothing until its next message)' : '';
      throw new AaosError(
        ErrorCode.AGENT_NOT_RUNNING,
        `agent ${info.name} (${info.id}) is ${info.state}${why}; only a running agent can be paused`,
        { agent_id: info.id, state: info.state },
      );
    }
    this.supervisor.pause(agentId);
    if (agentId === this.goals.agent) {
      this.setProblem(
        'bootstrap-paused',
        `the bootstrap agent ${agentId} is paused: goals wait in its mailbox until agentd resume ${agentId}`,
      );
    }
    return this.supervisor.status(agentId);
  }

  /** Lets a paused agent take its queued messages again. */
  resumeAgent(agentId: string): AgentInfo {
    const info = this.supervisor.status(agentId);
    if (info.state !== 'paused') {
      throw new AaosError(
        ErrorCode.INVALID_STATE_TRANSITION,
        `agent ${info.name} (${info.id}) is ${info.state}, not paused: nothing to resume`,
        { agent_id: info.id, from: info.state, to: 'running' },
      );
    }
    this.supervisor.resume(agentId);
    if (agentId === this.goals.agent) this.setProblem('bootstrap-paused', undefined);
    return this.supervisor.status(agentId);
  }

  /**
   * Spawn the persistent agent that takes goals. An unchanged manifest keeps its id, history
   * and memory across restarts; a changed one replaces it (src/runtime/bootstrap-succession.ts).
   */
  async startBootstrap(manifestPath: string): Promise<{ id: string; retired: string[] }> {
    const path = resolve(manifestPath);
    // read once: the digest, the stored record and the spawned agent all come from this text
    const text = readManifestSource(path).text;
    const manifest = parseManifest(text, { file: path });
    if (manifest.lifecycle !== 'persistent') {
      throw new AaosError(
        ErrorCode.MANIFEST_INVALID,
        `${manifestPath}: the bootstrap agent must have lifecycle: persistent (it takes every goal)`,
        {
          file: manifestPath,
          field: 'lifecycle',
        },
      );
    }
    await this.checkModel(manifest.model, `the bootstrap agent (${path})`);
    const digest = manifestDigest(manifest);
    const plan = planBootstrapSuccession(this.agentStore.list(), { path, manifest, digest });
    const id = plan.keep?.id ?? randomUUID();
    if (!plan.keep || plan.retire.length > 0) {
      // one transaction: a kill at any point leaves either the old bootstrap or the new one
      // recorded, never both and never neither; the next start converges from there
      const now = new Date().toISOString();
      this.store.transaction(() => {
        for (const old of plan.retire) {
          this.agentStore.update(old.id, {
            state: 'stopped',
            stopped_at: now,
            stop_reason: `replaced by bootstrap agent ${id} (${path} changed)`,
            replaced_by: id,
          });
          new CapabilityStore(this.store).remove(old.id);
        }
        if (!plan.keep) {
          this.agentStore.put({
            id,
            name: manifest.name,
            manifest_yaml: text,
            manifest_path: path,
            state: 'starting',
            created_at: now,
            model: manifest.model,
            role: 'bootstrap',
            manifest_digest: digest,
          });
        }
      });
      for (const old of plan.retire) {
        this.audit.emit({
          type: 'AgentStopped',
          agent_id: old.id,
          agent_name: old.name,
          reason: `replaced by bootstrap agent ${id}: ${path} changed; history and memory kept under ${old.id}`,
        });
      }
    }
    const info = await this.spawnAgent(
      { path, text },
      {
        id,
        concurrency: this.config.get('AAOS_MAX_CONCURRENT_GOALS'),
        record: { role: 'bootstrap', manifest_digest: digest },
      },
    );
    this.goals.setAgent(info.id);
    return { id: info.id, retired: plan.retire.map((r) => r.id) };
  }

  /** Stored agents that are stopped but kept (replaced bootstrap agents), as the agent list shows them. */
  retiredAgents(): AgentInfo[] {
    return this.agentStore
      .list()
      .filter((r) => r.state === 'stopped')
      .map((r) => ({
        id: r.id,
        name: r.name,
        model: r.model ?? '-',
        state: 'stopped',
        lifecycle: 'persistent',
        parent_id: null,
        depth: 0,
        created_at: r.created_at,
        capability_count: 0,
        queued: 0,
        busy: 0,
        ...(r.stop_reason ? { failure: r.stop_reason } : {}),
      }));
  }

  /**
   * Fails now, naming the agent, when its model routes nowhere (also via AAOS_MODEL_OVERRIDE),
   * needs a key that is not set, or is a scripted file that is missing or malformed:
   * found at start rather than at the first goal.
   */
  async checkModel(model: string, who: string): Promise<void> {
    try {
      const { route } = this.gateway.routes.resolve(model);
      if (route.provider === 'scripted') await this.gateway.routes.scripted.load(route.model);
    } catch (err) {
      const plain = toPlainError(err);
      throw new AaosError(plain.code as ErrorCode, `${who} cannot be served: ${plain.message}`, {
        ...plain.details,
        model,
      });
    }
  }

  /**
   * Startup recovery, in order: the bootstrap agent (when one is named), the persistent agents
   * a previous process left, then its unfinished goals (resumed or marked interrupted).
   */
  async start(options: { bootstrap?: string | undefined } = {}): Promise<StartReport> {
    const bootstrap = options.bootstrap ? await this.startBootstrap(options.bootstrap) : undefined;
    const agents = await this.restoreAgents();
    const runs = this.recoverRuns();
    return { ...(bootstrap ? { bootstrap } : {}), ...agents, ...runs };
  }

  // ── the daemon's view of agents (the supervisor stays behind this façade) ──

  listAgents(): AgentInfo[] {
    return this.supervisor.list();
  }

  /** A live or recently ended agent; AGENT_NOT_FOUND otherwise. */
  agentStatus(agentId: string): AgentInfo {
    return this.supervisor.status(agentId);
  }

  /** Status plus what a live agent's worker reports about itself. */
  inspectAgent(agentId: string): Promise<AgentInfo & { worker: WorkerStats | null }> {
    return this.supervisor.inspect(agentId);
  }

  isLive(agentId: string): boolean {
    return this.supervisor.isLive(agentId);
  }

  /** What a live agent's worker says about itself, or undefined (not live, or no answer within `timeoutMs`). */
  workerStats(agentId: string, timeoutMs?: number): Promise<WorkerStats | undefined> {
    return this.supervisor.workerStats(agentId, timeoutMs).catch(() => undefined);
  }

  /** Deliver a message to an agent and wait for its run's outcome. */
  runAgent(agentId: string, message: string, options: RunOptions = {}): Promise<RunOutcome> {
    return this.supervisor.run(agentId, message, options);
  }

  /** Stops a live agent and its subtree (a stored persistent agent stays recorded, unlike `stopAgent`). */
  stopLive(agentId: string, reason = 'user_requested'): Promise<void> {
    return this.supervisor.stop(agentId, reason);
  }

  /** `tool.invoke`: the same path a worker's call takes, approval included. */
  invokeTool(agentId: string, tool: string, input: unknown): Promise<unknown> {
    return this.supervisor.invokeTool(agentId, tool, input);
  }

  toolDefinitions(): ToolDefinition[] {
    return this.supervisor.tools.definitions();
  }

  hasTool(name: string): boolean {
    return this.supervisor.tools.get(name) !== undefined;
  }

  /** Tool calls running now (tracked where they run). */
  get toolCallsInFlight(): number {
    return this.supervisor.toolCallsInFlight;
  }

  /** Resolves true once no tool call runs, false after `timeoutMs` or when `stopWaitingForToolCalls()` is called. */
  settleToolCalls(timeoutMs: number): Promise<boolean> {
    return this.supervisor.settleToolCalls(timeoutMs);
  }

  stopWaitingForToolCalls(): void {
    this.supervisor.stopWaitingForToolCalls();
  }

  /** The capability tokens an agent holds (revoked ones included, with `revoked_at`). */
  tokens(agentId: string): TokenView[] {
    return this.supervisor.tokens(agentId);
  }

  /** Revokes one token of an agent (and everything delegated from it); false when it was revoked already. */
  revokeToken(tokenId: string, reason: string): boolean {
    return this.supervisor.revokeToken(tokenId, reason);
  }

  /** Revokes every token of an agent, durably for a persistent one. */
  revokeAllTokens(agentId: string, reason: string): number {
    return this.supervisor.revokeAll(agentId, reason, { durable: true });
  }

  /** Revokes what was delegated from a token of another node (the token itself lives there); how many. */
  revokeDelegatedFrom(tokenId: string, reason: string): number {
    return this.supervisor.revokeDelegatedFrom(tokenId, reason);
  }

  /** Agents with a worker or a parked slot now (what AAOS_MAX_AGENTS counts). */
  get liveAgentCount(): number {
    return this.supervisor.liveCount;
  }

  /** The persistent agents recorded in the store (replaced bootstrap agents included, state `stopped`). */
  storedAgents(): AgentRecord[] {
    return this.agentStore.list();
  }

  /** What a persistent agent carries to another node: its conversation and its tokens' durable states. */
  agentState(agentId: string): { history: HistoryEntry[]; tokens: DurableTokenState[]; memories: MemoryView[] } {
    return {
      history: this.sessions.load(agentId),
      tokens: new CapabilityStore(this.store).load(agentId),
      memories: this.memory.list(agentId),
    };
  }

  /**
   * Stores a persistent agent's state brought from another node, before the agent is spawned
   * here. Its memories replace what this store holds under its id (a copy from when it lived
   * here before); they come as text and are embedded with this node's embedder, oldest first.
   */
  async restoreAgentState(
    agentId: string,
    state: {
      history: readonly HistoryEntry[];
      tokens: DurableTokenState[];
      memories: ReadonlyArray<Pick<MemoryView, 'content' | 'category' | 'created_at'>>;
    },
  ): Promise<void> {
    this.sessions.replace(agentId, state.history);
    new CapabilityStore(this.store).save(agentId, state.tokens);
    for (const old of this.memory.list(agentId)) this.memory.delete(agentId, old.id);
    const ordered = [...state.memories].sort((a, b) => a.created_at.localeCompare(b.created_at));
    for (let i = 0; i < ordered.length; i += EMBED_BATCH) {
      const batch = ordered.slice(i, i + EMBED_BATCH);
      const vectors = await this.memory.embedder.embed(batch.map((m) => m.content));
      for (const [j, m] of batch.entries()) {
        const embedding = vectors[j];
        if (!embedding)
          throw new AaosError(
            ErrorCode.EMBEDDING_FAILED,
            `restoring agent ${agentId}: the embedder returned ${vectors.length} vectors for ${batch.length} memories`,
            { agent_id: agentId },
          );
        this.memory.store(
          agentId,
          { content: m.content, category: m.category, embedding },
          { maxRecords: Math.max(1, ordered.length) },
        );
      }
    }
  }

  // ── goals and runs ──

  /** The persistent agent that takes goals, when one runs. */
  get bootstrapAgentId(): string | undefined {
    return this.goals.agent;
  }

  /** Takes a goal for the bootstrap agent: queued, or refused (no bootstrap agent, store not writable). */
  submitGoal(goal: string, options: { orchestration?: Orchestration } = {}): GoalHandle {
    return this.goals.submit(goal, options);
  }

  /** Cancels a queued or running goal; the run's record (already ended: unchanged). */
  cancelRun(runId: string, reason: string): RunRecord {
    return this.goals.cancel(runId, reason);
  }

  /** A goal run of this node by exact id. */
  run(runId: string): RunRecord | undefined {
    return this.runStore.get(runId);
  }

  /** Goal runs of this node, newest first. */
  runs(filter: { state?: RunState | readonly RunState[]; limit?: number } = {}): RunRecord[] {
    return this.runStore.list(filter);
  }

  /** Settles with the run's final record; undefined when the run is not queued or running here. */
  whenRunDone(runId: string): Promise<RunRecord> | undefined {
    return this.goals.whenDone(runId);
  }

  /** A planned run's plan (steps, their agents and states); undefined for a direct run. */
  runPlan(record: RunRecord): PlanViewRecord | undefined {
    return this.orchestrator.planOf(record);
  }

  /** Goals running and waiting for a slot now. */
  goalLoad(): { running: number; queued: number } {
    return { running: this.goals.running, queued: this.goals.waiting };
  }

  /** Starts no queued goal from now on (shutdown); running ones go on. */
  holdGoals(): void {
    this.goals.hold();
  }

  /** Resolves once no goal is queued or running. */
  goalsIdle(): Promise<void> {
    return this.goals.idle();
  }

  // ── events, approvals, health, settings ──

  /** Live and recent audit events (the durable history: `auditHistory`). */
  get events(): AuditFeed {
    return this.audit;
  }

  /** Pending human approvals, answers to them, and a feed of both. */
  get approvals(): ApprovalDesk {
    return this.approvalQueue;
  }

  /** The runtime's part of `system.health`. */
  health(): RuntimeHealth {
    return {
      problems: this.healthProblems,
      store: { write_failures: this.store.health().writeFailures, audit_events_unstored: this.auditStore.unstored },
      agents: this.supervisor.list().length,
      bootstrap_agent_id: this.goals.agent ?? null,
      runs: this.goalLoad(),
      approvals_pending: this.approvalQueue.list().pending.length,
      provider: this.gateway.describeDefault(),
    };
  }

  /** The default model route in words (`agentd run` prints it at start). */
  describeProvider(): string {
    return this.gateway.describeDefault();
  }

  /** Model calls waiting and running per provider, for the metrics. */
  providerQueues(): Array<{ provider: string; queued: number; inFlight: number }> {
    return this.gateway.routes.available().map((provider) => {
      const s = this.gateway.scheduler.stats(provider);
      return { provider, queued: s.queued, inFlight: s.inFlight };
    });
  }

  /** Each declared MCP server: connected or not, its tools, its last error. */
  mcpStatus(): McpServerStatus[] {
    return this.mcp.status();
  }

  /** One setting as parsed at start (config file under the environment, defaults applied). */
  setting<K extends SettingName>(name: K): SettingValue<K> {
    return this.config.get(name);
  }

  // ── seams that are not the daemon's ──

  /**
   * What a cluster membership plugs into: the goal runner it feeds from the shared queue, the
   * supervisor that runs children placed on this node, and the run journal it copies so another
   * node can resume a goal. The cluster extends the kernel rather than calling it, so it gets
   * these parts; only the cluster wiring may call this (test/runtime/facade.test.ts keeps it there).
   */
  clusterHooks(): { goals: GoalRunner; supervisor: Supervisor; journal: RunJournal } {
    return { goals: this.goals, supervisor: this.supervisor, journal: this.journal };
  }

  /**
   * Test and bench support only: the parts, for assertions on internals the façade has no
   * reason to offer (the tool registry, records of ended agents, memory counts, trace flush).
   * Nothing under src/ outside src/runtime may call it (test/runtime/facade.test.ts).
   */
  internalsForTests(): Readonly<RuntimeParts> {
    return {
      supervisor: this.supervisor,
      gateway: this.gateway,
      store: this.store,
      runStore: this.runStore,
      journal: this.journal,
      goals: this.goals,
      audit: this.audit,
      auditStore: this.auditStore,
      agentStore: this.agentStore,
      sessions: this.sessions,
      memory: this.memory,
      approvalQueue: this.approvalQueue,
      skills: this.skills,
      config: this.config,
      tracing: this.tracing,
      mcp: this.mcp,
      orchestrator: this.orchestrator,
    };
  }

  /** Bring back persistent agents (other than the bootstrap agent) recorded by a previous process. */
  async restoreAgents(): Promise<{ restored: string[]; failed: Array<{ id: string; name: string; reason: string }> }> {
    const restored: string[] = [];
    const failed: Array<{ id: string; name: string; reason: string }> = [];
    for (const rec of this.agentStore.list()) {
      // a bootstrap comes back only through startBootstrap; a stopped one is kept, not run
      if (
        rec.role === 'bootstrap' ||
        rec.state === 'stopped' ||
        rec.id === this.goals.agent ||
        this.supervisor.isLive(rec.id)
      )
        continue;
      try {
        const source = rec.manifest_path ? { path: rec.manifest_path } : { yaml: rec.manifest_yaml };
        await this.spawnAgent(source, { id: rec.id });
        restored.push(rec.id);
      } catch (err) {
        const reason = toPlainError(err).message;
        failed.push({ id: rec.id, name: rec.name, reason });
        this.agentStore.update(rec.id, { state: 'failed' });
        this.setProblem(`agent:${rec.id}`, `persistent agent ${rec.name} (${rec.id}) could not be restored: ${reason}`);
      }
    }
    return { restored, failed };
  }

  /**
   * Runs a previous process left queued or running (crash, kill -9): resumed from the
   * start in their workspace (AAOS_RESUME_RUNS=1, the default) or marked interrupted
   * with the reason. Never forgotten.
   */
  recoverRuns(): { resumed: RunRecord[]; interrupted: RunRecord[] } {
    const resume = this.config.get('AAOS_RESUME_RUNS');
    const resumed: RunRecord[] = [];
    const interrupted: RunRecord[] = [];
    for (const rec of this.runStore.unfinished()) {
      if (resume && this.goals.agent) {
        this.goals.resume(rec);
        resumed.push(rec);
      } else {
        interrupted.push(
          this.runStore.update(rec.run_id, {
            state: 'interrupted',
            ended_at: new Date().toISOString(),
            error: {
              code: ErrorCode.AGENT_STOPPED,
              message: `the supervisor stopped while this run was ${rec.state}; it was not resumed (${resume ? 'no bootstrap agent' : 'AAOS_RESUME_RUNS=0'})`,
            },
          }),
        );
      }
    }
    return { resumed, interrupted };
  }

  /**
   * A forced stop: abort every running goal now (each stays resumable in the store) and
   * keep pending approvals persisted, as close() does, without waiting for anything.
   */
  cancelRunsForStop(): void {
    this.approvalQueue.close();
    this.goals.suspend();
  }

  async close(reason = 'shutdown'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.audit.emit({ type: 'RuntimeStopping', agent_id: 'supervisor', agent_name: 'supervisor', reason });
    // approvals first: closing keeps pending ones persisted, where a cancelled call would remove them
    this.approvalQueue.close();
    this.goals.suspend();
    await this.supervisor.shutdown(reason);
    await this.mcp.close();
    await closeIoPool();
    await this.audit.close();
    await this.tracing?.shutdown();
    await this.store.close();
  }
}
