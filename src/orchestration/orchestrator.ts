import { auditHeader } from '../audit/call-context.js';
import { join } from 'node:path';
import type { AuditInput } from '../audit/event.js';
import { readSetting, type EnvRecord } from '../config/config.js';
import { PROJECT_ROOT } from '../config/built-path.js';
import type { ModelPort } from '../kernel/ports.js';
import type { Supervisor } from '../kernel/supervisor.js';
import type { RunPatch, RunRecord } from '../store/run-store.js';
import { classifyGoal, type OrchestrationMode } from './classifier.js';
import { PlanExecutor } from './plan-executor.js';
import { readPlanView, type PlanViewRecord } from './plan-view.js';
import { Planner } from './planner.js';
import type { RoleCatalog } from './role-catalog.js';

/** How a submitted goal runs: `direct` (the goal's agent improvises), `plan` (planner + executor), `auto` (one model call decides). */
const ORCHESTRATION_MODES = ['direct', 'plan', 'auto'] as const;
export type Orchestration = (typeof ORCHESTRATION_MODES)[number];

export interface OrchestrationSettings {
  defaultMode: Orchestration;
  plannerModel: string;
  classifierModel: string;
  maxReplans: number;
  defaultWallClockMs?: number;
  defaultHops?: number;
}

const OFFLINE_PLANNER = `scripted:${join(PROJECT_ROOT, 'roles', 'scripted', 'planner.yaml')}`;
const OFFLINE_CLASSIFIER = `scripted:${join(PROJECT_ROOT, 'roles', 'scripted', 'classifier.yaml')}`;

/** Orchestration settings (docs/orchestration.md), read through the one settings table. */
export function orchestrationSettings(env: EnvRecord): OrchestrationSettings {
  const mode = readSetting(env, 'AAOS_ORCHESTRATION');
  const planner = readSetting(env, 'AAOS_PLANNER_MODEL');
  const wall = readSetting(env, 'AAOS_DEFAULT_TASK_TTL_WALL_CLOCK_S');
  const hops = readSetting(env, 'AAOS_DEFAULT_TASK_TTL_HOPS');
  return {
    defaultMode: mode === 'persistent' ? 'direct' : mode,
    plannerModel: planner ?? OFFLINE_PLANNER,
    classifierModel: readSetting(env, 'AAOS_CLASSIFIER_MODEL') ?? planner ?? OFFLINE_CLASSIFIER,
    maxReplans: readSetting(env, 'AAOS_MAX_REPLANS'),
    ...(wall !== undefined ? { defaultWallClockMs: wall * 1000 } : {}),
    ...(hops !== undefined ? { defaultHops: hops } : {}),
  };
}

/**
 * Decides how each goal runs and runs the planned ones. The goal runner asks it for
 * the mode, then hands plan-mode runs to `runPlan`.
 */
export class Orchestrator {
  readonly executor: PlanExecutor;

  constructor(
    private readonly deps: {
      supervisor: Supervisor;
      models: ModelPort;
      catalog: RoleCatalog;
      emit: (e: AuditInput) => void;
      settings: OrchestrationSettings;
    },
  ) {
    const s = deps.settings;
    this.executor = new PlanExecutor({
      supervisor: deps.supervisor,
      models: deps.models,
      catalog: deps.catalog,
      planner: new Planner({ models: deps.models, catalog: deps.catalog, model: s.plannerModel }),
      maxReplans: s.maxReplans,
      ...(s.defaultWallClockMs !== undefined ? { defaultWallClockMs: s.defaultWallClockMs } : {}),
      ...(s.defaultHops !== undefined ? { defaultHops: s.defaultHops } : {}),
    });
  }

  get catalog(): RoleCatalog {
    return this.deps.catalog;
  }

  /** plan or direct for this run; `auto` costs one model call. Emits OrchestrationSelected. */
  async mode(record: RunRecord, agentId: string, signal: AbortSignal): Promise<OrchestrationMode> {
    const asked = record.orchestration ?? this.deps.settings.defaultMode;
    const header = auditHeader({ id: agentId, name: 'plan', runId: record.run_id });
    if (asked !== 'auto') {
      this.deps.emit({
        type: 'OrchestrationSelected',
        ...header,
        mode: asked,
        source: record.orchestration ? 'explicit' : 'default',
      });
      return asked;
    }
    const caller = { id: `classifier-${record.run_id}`, name: 'classifier', parentId: agentId, runId: record.run_id };
    try {
      const { mode, answer } = await classifyGoal(
        this.deps.models,
        this.deps.settings.classifierModel,
        record.goal,
        caller,
        signal,
      );
      this.deps.emit({ type: 'OrchestrationSelected', ...header, mode, source: 'auto', answer: answer.slice(0, 200) });
      return mode;
    } finally {
      this.deps.models.releaseAgent(caller.id);
    }
  }

  async runPlan(record: RunRecord, agentId: string, signal: AbortSignal): Promise<RunPatch> {
    const outcome = await this.executor.run({
      goal: record.goal,
      runId: record.run_id,
      workspace: record.workspace,
      parentId: agentId,
      signal,
    });
    return {
      state: outcome.state,
      result: outcome.result,
      ...(outcome.error ? { error: outcome.error } : {}),
    };
  }

  /** The plan of a run and where it stands: live when it runs here, else from its workspace. */
  planOf(record: RunRecord): PlanViewRecord | undefined {
    return this.executor.view(record.run_id) ?? readPlanView(record.workspace);
  }
}
