import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { AuditLog } from '../audit/audit-log.js';
import { NdjsonSink } from '../audit/ndjson-sink.js';
import { Supervisor } from '../kernel/supervisor.js';
import { loadManifestFile } from '../manifest/parse.js';
import { ModelGateway } from '../providers/gateway.js';
import { GoalRunner } from '../runs/goal-runner.js';
import { openStore, type Store } from '../store/lmdb-env.js';
import { RunStore } from '../store/run-store.js';
import { createEchoTool } from '../tools/echo.js';
import { closeIoPool, createFsTools } from '../tools/fs/index.js';
import { createAskAgentTool } from '../tools/messaging/ask-agent.js';
import type { Messenger } from '../tools/messaging/messenger.js';
import { createSendMessageTool } from '../tools/messaging/send-message.js';
import { createSpawnAgentTool } from '../tools/spawn/spawn-agent.js';
import { createSpawnAgentsTool } from '../tools/spawn/spawn-agents.js';
import type { Tool } from '../tools/tool.js';
import { createWebFetchTool } from '../tools/web/web-fetch.js';
import { makeEnvelope } from '../router/envelope.js';
import { AaosError, ErrorCode } from '../errors/index.js';
import { intFromEnv } from './env.js';
import { ApprovalQueue } from '../approvals/approval-queue.js';
import { ApprovalStore } from '../store/approval-store.js';
import { SkillRegistry } from '../skills/registry.js';
import { SkillActivations } from '../skills/activations.js';
import { skillRoots } from '../skills/loader.js';
import { createSkillReadTool } from '../skills/skill-read-tool.js';
import type { SkillProblem } from '../skills/loader.js';

export interface RuntimeOptions {
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  /** where audit events go as NDJSON besides the in-memory log (e.g. process.stdout) */
  auditStream?: NodeJS.WritableStream;
  maxAgents?: number;
  maxDepth?: number;
  maxConcurrentGoals?: number;
}

/**
 * The composition root: one supervisor with its providers, tools and stores,
 * plus the goal runner. `agentd run`, the daemon and the tests build it here.
 */
export class Runtime {
  private constructor(
    readonly supervisor: Supervisor,
    readonly gateway: ModelGateway,
    readonly store: Store,
    readonly runs: RunStore,
    readonly goals: GoalRunner,
    readonly audit: AuditLog,
    readonly env: NodeJS.ProcessEnv,
    readonly approvals: ApprovalQueue,
    readonly skills: SkillRegistry,
  ) {}

  /** Problems found while loading skills (each skipped skill, with file and reason). */
  get skillProblems(): readonly SkillProblem[] {
    return this.skills.problems;
  }

  static async open(options: RuntimeOptions): Promise<Runtime> {
    const env = options.env ?? process.env;
    const dataDir = resolve(options.dataDir);
    mkdirSync(dataDir, { recursive: true, mode: 0o750 });
    const audit = new AuditLog(intFromEnv(env, 'AAOS_AUDIT_LOG_CAP', 50_000, 1));
    if (options.auditStream) audit.addSink(NdjsonSink.toStream(options.auditStream as never));
    const emit = audit.emit.bind(audit);
    const gateway = new ModelGateway({ env, emit });
    const store = openStore(dataDir);
    const runs = new RunStore(store);
    const skills = await SkillRegistry.load(skillRoots(env));
    const approvals = new ApprovalQueue({
      persistence: new ApprovalStore(store),
      emit,
      defaultTimeoutMs: intFromEnv(env, 'AAOS_APPROVAL_TIMEOUT_MS', 3_600_000, 1),
    });

    let supervisor: Supervisor | undefined;
    const activations = new SkillActivations({
      onActivate: (agentId, runId, skill) => {
        const rec = supervisor?.agents.get(agentId);
        emit({
          type: 'SkillActivated',
          agent_id: agentId,
          agent_name: rec?.name ?? agentId,
          ...(runId ? { run_id: runId } : {}),
          skill: skill.name,
          allowed_tools: skill.allowedTools,
        });
      },
    });
    const messenger: Messenger = {
      send: (senderId, to, method, params) => {
        const sender = supervisor!.agents.require(senderId);
        const env = makeEnvelope({ sender: sender.id, recipient: to, method, params });
        return supervisor!.router.send({ id: sender.id, name: sender.name }, JSON.stringify(env));
      },
      request: async (senderId, to, method, params, timeoutMs) => {
        const sender = supervisor!.agents.require(senderId);
        const env = makeEnvelope({ sender: sender.id, recipient: to, method, params, request: true });
        const reply = (await supervisor!.router.request({ id: sender.id, name: sender.name }, JSON.stringify(env), timeoutMs)) as {
          response?: string;
          stop_reason?: string;
        };
        return { from: to, response: reply.response ?? '', stop_reason: reply.stop_reason ?? 'complete' };
      },
    };
    const tools: Tool[] = [
      createEchoTool(),
      ...createFsTools(),
      createWebFetchTool(),
      createSpawnAgentTool(),
      createSpawnAgentsTool(intFromEnv(env, 'AAOS_SPAWN_AGENTS_BATCH_CAP', 16, 1)),
      createSendMessageTool(messenger),
      createAskAgentTool(messenger),
      createSkillReadTool(skills, activations),
    ];
    supervisor = new Supervisor({
      dataDir,
      models: gateway,
      audit,
      tools,
      maxAgents: options.maxAgents ?? intFromEnv(env, 'AAOS_MAX_AGENTS', 100, 1),
      maxDepth: options.maxDepth ?? intFromEnv(env, 'AAOS_MAX_SPAWN_DEPTH', 5, 0),
      maxOutputTokens: intFromEnv(env, 'AAOS_MAX_OUTPUT_TOKENS', 4096, 1),
      approvals: { request: (args) => approvals.request(args) },
      skills: {
        catalog: () => skills.catalog(),
        check: (agentId, runId, tool) => activations.check(agentId, runId, tool),
        endRun: (agentId, runId) => activations.endRun(agentId, runId),
        endAgent: (agentId) => activations.endAgent(agentId),
      },
    });
    const goals = new GoalRunner({
      supervisor,
      runs,
      emit,
      maxConcurrent: options.maxConcurrentGoals ?? intFromEnv(env, 'AAOS_MAX_CONCURRENT_GOALS', 2, 1),
    });
    return new Runtime(supervisor, gateway, store, runs, goals, audit, env, approvals, skills);
  }

  /** Spawn the persistent agent that takes goals, from a manifest file. */
  async startBootstrap(manifestPath: string): Promise<string> {
    const manifest = await loadManifestFile(manifestPath);
    if (manifest.lifecycle !== 'persistent') {
      throw new AaosError(ErrorCode.MANIFEST_INVALID, `${manifestPath}: the bootstrap agent must have lifecycle: persistent (it takes every goal)`, {
        file: manifestPath,
        field: 'lifecycle',
      });
    }
    const info = await this.supervisor.spawn(manifest, { concurrency: intFromEnv(this.env, 'AAOS_MAX_CONCURRENT_GOALS', 2, 1) });
    this.goals.setAgent(info.id);
    return info.id;
  }

  async close(reason = 'shutdown'): Promise<void> {
    await this.supervisor.shutdown(reason);
    this.approvals.close();
    await closeIoPool();
    await this.audit.close();
    await this.store.close();
  }
}
