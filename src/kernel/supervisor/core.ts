import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AuditLog } from '../../audit/audit-log.js';
import type { AuditInput } from '../../audit/event.js';
import type { Router } from '../../router/router.js';
import { ToolRegistry } from '../../tools/registry.js';
import { AgentActor, type ActorHooks } from '../actor.js';
import { AgentTable, type AgentInfo, type LiveAgent } from '../agent-table.js';
import { PROJECT_ROOT } from '../../config/built-path.js';
import { CapabilityTable } from '../../capability/capability-table.js';
import { Conversations } from '../conversation.js';
import { InflightCalls } from '../inflight-calls.js';
import { ManifestFileAccess } from '../manifest-file-access.js';
import type { RemoteAgentsPort } from '../remote-agents.js';
import { DEFAULT_RESTART_LIMITS, type RestartLimits } from '../restart-policy.js';
import { DEFAULT_WATCHDOG_LIMITS, type WatchdogLimits } from '../watchdog.js';
import { DEFAULT_AGENT_MODULE, WorkerLauncher } from '../worker-launcher.js';
import type { SupervisorOptions } from './options.js';

const ENDED_KEEP = 1000;

/**
 * What the supervisor's modules share: the tables, the worker launcher, the per-run
 * conversations and the audit log. It holds state and no policy; delivery, spawning,
 * parking, lifecycle and worker requests are the modules beside it that act on it.
 */
export class SupervisorCore {
  readonly dataDir: string;
  readonly audit: AuditLog;
  readonly capabilities: CapabilityTable;
  readonly tools: ToolRegistry;
  readonly agents: AgentTable;
  readonly launcher: WorkerLauncher;
  readonly conversations = new Conversations();
  /** tool calls running now (shutdown lets them finish) */
  readonly toolCalls = new InflightCalls();
  readonly manifestFiles: ManifestFileAccess;
  readonly watchdog: WatchdogLimits;
  readonly restartLimits: RestartLimits;
  /** agents that ended, kept (up to ENDED_KEEP) so `status` still answers for them */
  private readonly ended = new Map<string, AgentInfo>();
  /** the router between agents; the façade makes it (its deliveries go through the delivery module) */
  router!: Router;
  /** what every actor calls back into; the façade sets it before the first spawn */
  hooks!: ActorHooks;
  /** set when this supervisor is a cluster node: agents on other nodes */
  remote: RemoteAgentsPort | undefined;
  shuttingDown = false;

  constructor(readonly opts: SupervisorOptions) {
    this.dataDir = resolve(opts.dataDir);
    mkdirSync(this.dataDir, { recursive: true });
    this.watchdog = { ...DEFAULT_WATCHDOG_LIMITS, ...opts.watchdog };
    this.restartLimits = { ...DEFAULT_RESTART_LIMITS, ...opts.restarts };
    this.audit = opts.audit ?? new AuditLog();
    this.capabilities = new CapabilityTable((e) => this.emit(e));
    this.manifestFiles = new ManifestFileAccess(
      this.capabilities,
      opts.promptRoots ?? [join(PROJECT_ROOT, 'manifests')],
    );
    this.tools = new ToolRegistry();
    if (opts.tools) this.tools.register(...opts.tools);
    this.agents = new AgentTable({ maxAgents: opts.maxAgents ?? 100, maxDepth: opts.maxDepth ?? 5 });
    this.launcher = new WorkerLauncher(opts.spawnConcurrency, opts.workerNice ?? 0);
    if (opts.warmWorkers && opts.warmWorkers > 0) this.launcher.prewarm(DEFAULT_AGENT_MODULE(), 64, opts.warmWorkers);
  }

  emit(event: AuditInput): void {
    this.audit.emit(event);
  }

  /** A new actor for an agent (a parked one for a restart: no worker until its next message). */
  newActor(id: string, name: string, concurrency: number, parked = false): AgentActor {
    return new AgentActor(id, name, this.hooks, concurrency, {
      livenessMs: this.watchdog.livenessMs,
      ...(parked ? { parked: true } : {}),
    });
  }

  info(rec: LiveAgent): AgentInfo {
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

  /** Remembers an agent that ended, for `status`. */
  remember(info: AgentInfo): void {
    this.ended.set(info.id, info);
    if (this.ended.size > ENDED_KEEP) this.ended.delete(this.ended.keys().next().value as string);
  }

  endedInfo(agentId: string): AgentInfo | undefined {
    return this.ended.get(agentId);
  }
}
