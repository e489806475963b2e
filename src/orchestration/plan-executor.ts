import { auditHeader } from '../audit/call-context.js';

import type { AuditInput } from '../audit/event.js';
import { AaosError, ErrorCode, isAaosError, toPlainError } from '../errors/index.js';
import type { ModelPort } from '../kernel/ports.js';
import type { Supervisor } from '../kernel/supervisor.js';
import { preview } from '../audit/preview.js';
import type { ChildRunResult } from '../tools/tool.js';
import { depths, topoBatches } from './plan-check.js';
import type { Plan, Subtask } from './plan.js';
import { PlanView, type PlanViewRecord } from './plan-view.js';
import type { Planner } from './planner.js';
import type { EscalationSignal, Role } from './role.js';
import type { RoleCatalog } from './role-catalog.js';
import { renderRole } from './role-render.js';
import { judgeAttempt, type SubtaskFailure } from './subtask-failure.js';

export interface PlanExecutorOptions {
  supervisor: Supervisor;
  models: ModelPort;
  planner: Planner;
  catalog: RoleCatalog;
  /** replans after a failure (default 3) */
  maxReplans?: number;
  /** default wall-clock limit of one subtask attempt (ms); none when undefined */
  defaultWallClockMs?: number;
  /** default hop budget of a subtask; none when undefined */
  defaultHops?: number;
}

export interface PlanRunRequest {
  goal: string;
  runId: string;
  /** the run's workspace: `{run}` in plans, where plan.json is written */
  workspace: string;
  /** the agent the goal was given to; every subtask is its child, narrowed to it */
  parentId: string;
  signal: AbortSignal;
}

export interface PlanOutcome {
  state: 'completed' | 'failed' | 'cancelled';
  result: string;
  error?: { code: string; message: string };
  view: PlanViewRecord;
}

interface Done {
  key: string;
  response: string;
  outputs: string[];
}

interface RunScope {
  req: PlanRunRequest;
  view: PlanView;
  tiers: Map<string, number>;
  done: Map<string, Done>;
  last: string;
}

const subtaskKey = (s: Subtask): string => JSON.stringify([s.role, s.params, s.depends_on]);

/**
 * Runs a goal as a plan: the planner writes it, the executor runs it in topological
 * batches (each batch in parallel), every subtask a child of the goal's agent made
 * from its role through `Supervisor.runChild` — the same spawn_child check and
 * narrowing as any child. Failures are retried per role policy, escalate the model
 * along the role's ladder, and make the planner replan (bounded) with the failure.
 */
export class PlanExecutor {
  private readonly live = new Map<string, PlanView>();

  constructor(private readonly opts: PlanExecutorOptions) {}

  /** The plan of a run in progress (for status); undefined when none runs here. */
  view(runId: string): PlanViewRecord | undefined {
    return this.live.get(runId)?.record;
  }

  async run(req: PlanRunRequest): Promise<PlanOutcome> {
    const view = new PlanView(req.workspace, req.runId, req.goal);
    this.live.set(req.runId, view);
    const scope: RunScope = { req, view, tiers: new Map(), done: new Map(), last: '' };
    const caller = { id: `planner-${req.runId}`, name: 'planner', parentId: req.parentId, runId: req.runId };
    const maxReplans = this.opts.maxReplans ?? 3;
    let replans = 0;
    let previous: { plan: unknown; failure: string } | undefined;
    const end = (
      state: PlanOutcome['state'],
      result: string,
      error?: { code: string; message: string },
    ): PlanOutcome => {
      view.finish(state, { replans_used: replans, ...(error ? { error: `${error.code}: ${error.message}` } : {}) });
      return { state, result, ...(error ? { error } : {}), view: view.record };
    };
    try {
      for (;;) {
        if (req.signal.aborted)
          return end('cancelled', '', { code: ErrorCode.CANCELLED, message: 'the run was cancelled' });
        let plan: Plan;
        try {
          ({ plan } = await this.opts.planner.plan({
            goal: req.goal,
            run: req.workspace,
            dataDir: this.opts.supervisor.dataDir,
            caller,
            signal: req.signal,
            ...(previous ? { previous } : {}),
          }));
        } catch (err) {
          if (req.signal.aborted)
            return end('cancelled', '', { code: ErrorCode.CANCELLED, message: 'the run was cancelled while planning' });
          const plain = toPlainError(err);
          if (isAaosError(err, ErrorCode.PLAN_INVALID) && replans < maxReplans) {
            replans++;
            this.emit(req, { type: 'PlanReplanned', reason: plain.message, replans_used: replans });
            previous = { plan: null, failure: plain.message };
            continue;
          }
          return end('failed', '', { code: plain.code, message: plain.message });
        }
        view.adopt(plan, previous?.failure);
        view.record.replans_used = replans;
        this.emit(req, {
          type: 'PlanProduced',
          subtask_count: plan.subtasks.length,
          replans_used: replans,
          final_output: plan.final_output.replaceAll('{run}', req.workspace),
          subtasks: plan.subtasks.map((s) => ({ id: s.id, role: s.role, depends_on: s.depends_on })),
        });
        const failure = await this.execute(plan, scope);
        if (!failure) {
          const finalOutput = plan.final_output.replaceAll('{run}', req.workspace);
          return end(
            'completed',
            scope.last && scope.last.trim() !== finalOutput ? `${finalOutput}\n${scope.last}` : finalOutput,
          );
        }
        if (failure.kind === 'cancelled' && req.signal.aborted)
          return end('cancelled', '', { code: ErrorCode.CANCELLED, message: failure.message });
        if (replans >= maxReplans) {
          return end('failed', '', {
            code: ErrorCode.PLAN_FAILED,
            message: `${failure.message} (after ${replans} replan${replans === 1 ? '' : 's'})`,
          });
        }
        replans++;
        this.escalate(scope, plan, failure.subtaskId, 'replan_retry');
        this.emit(req, {
          type: 'PlanReplanned',
          reason: failure.message,
          replans_used: replans,
          failed_subtask: failure.subtaskId,
        });
        previous = { plan, failure: failure.message };
      }
    } finally {
      this.opts.models.releaseAgent(caller.id);
      this.live.delete(req.runId);
    }
  }

  private emit(req: PlanRunRequest, fields: DistributiveOmit<AuditInput, 'agent_id' | 'agent_name' | 'run_id'>): void {
    this.opts.supervisor.emit({
      ...auditHeader({ id: req.parentId, name: 'plan', runId: req.runId }),
      ...fields,
    } as AuditInput);
  }

  /** Runs one plan; undefined when every subtask succeeded, else the first failure of the failing batch. */
  private async execute(plan: Plan, scope: RunScope): Promise<SubtaskFailure | undefined> {
    const depth = depths(plan.subtasks);
    for (const batch of topoBatches(plan.subtasks)) {
      // siblings all finish before the batch's failure is acted on
      const failures = await Promise.all(batch.map((s) => this.runSubtask(s, depth.get(s.id) ?? 0, scope)));
      const failure = failures.find((f): f is SubtaskFailure => f !== undefined);
      if (failure) {
        for (const s of plan.subtasks) {
          const v = scope.view.record.subtasks.find((x) => x.id === s.id);
          if (v?.state === 'pending') scope.view.update(s.id, { state: 'skipped' });
        }
        return failure;
      }
    }
    return undefined;
  }

  private async runSubtask(s: Subtask, depth: number, scope: RunScope): Promise<SubtaskFailure | undefined> {
    const { req, view } = scope;
    const role = this.opts.catalog.require(s.role);
    const started = performance.now();
    const previous = scope.done.get(s.id);
    if (
      previous &&
      previous.key === subtaskKey(s) &&
      judgeAttempt(s.id, {
        result: ok(previous.response),
        timedOut: false,
        cancelled: false,
        declaredOutputs: previous.outputs,
        requireDeclaredOutput: true,
      }).failure === undefined
    ) {
      view.update(s.id, { state: 'reused', response: previous.response });
      this.emit(req, {
        type: 'SubtaskCompleted',
        subtask_id: s.id,
        role: s.role,
        success: true,
        attempts: 0,
        elapsed_ms: 0,
        response_preview: preview(previous.response),
        reused: true,
      });
      return undefined;
    }
    const hops = s.ttl?.max_hops ?? this.opts.defaultHops;
    if (hops !== undefined && hops - depth <= 0) {
      this.emit(req, { type: 'SubtaskTtlExpired', subtask_id: s.id, reason: 'hops_exhausted' });
      const message = `subtask '${s.id}': no hops left (max_hops ${hops} at plan depth ${depth})`;
      this.emit(req, {
        type: 'SubtaskFailed',
        subtask_id: s.id,
        role: s.role,
        attempt: 0,
        kind: 'hops',
        reason: message,
        will_retry: false,
      });
      view.update(s.id, { state: 'failed', error: message });
      return { subtaskId: s.id, kind: 'hops', message };
    }
    const wallMs = s.ttl?.max_wall_clock_s !== undefined ? s.ttl.max_wall_clock_s * 1000 : this.opts.defaultWallClockMs;
    for (let attempt = 1; ; attempt++) {
      let rendered;
      try {
        rendered = renderRole(role, s.params, {
          subtaskId: s.id,
          run: req.workspace,
          tier: scope.tiers.get(s.id) ?? 0,
        });
      } catch (err) {
        const plain = toPlainError(err);
        const message = `subtask '${s.id}': ${plain.code}: ${plain.message}`;
        this.emit(req, {
          type: 'SubtaskFailed',
          subtask_id: s.id,
          role: s.role,
          attempt,
          kind: 'error',
          reason: message,
          will_retry: false,
        });
        view.update(s.id, { state: 'failed', error: message });
        return { subtaskId: s.id, kind: 'error', message };
      }
      view.update(s.id, {
        state: 'running',
        attempts: attempt,
        model: rendered.model,
        started_at: new Date().toISOString(),
      });
      this.emit(req, { type: 'SubtaskStarted', subtask_id: s.id, role: s.role, attempt, model: rendered.model });

      const attemptAbort = new AbortController();
      const onOuter = (): void => attemptAbort.abort(req.signal.reason);
      if (req.signal.aborted) onOuter();
      else req.signal.addEventListener('abort', onOuter, { once: true });
      let timedOut = false;
      const timer =
        wallMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              attemptAbort.abort(
                new AaosError(
                  ErrorCode.SUBTASK_TTL_EXPIRED,
                  `subtask '${s.id}' ran past its wall-clock limit of ${wallMs} ms`,
                ),
              );
            }, wallMs);
      let result: ChildRunResult | undefined;
      let error: { code: string; message: string } | undefined;
      try {
        result = await this.opts.supervisor.runChild(req.parentId, rendered.manifest, rendered.message, {
          via: 'plan',
          signal: attemptAbort.signal,
          runId: req.runId,
          workspace: req.workspace,
          onSpawned: (agentId) => view.update(s.id, { agent_id: agentId }),
        });
      } catch (err) {
        const plain = toPlainError(err);
        error = { code: plain.code, message: plain.message };
      } finally {
        clearTimeout(timer);
        req.signal.removeEventListener('abort', onOuter);
      }
      const judged = judgeAttempt(s.id, {
        ...(result ? { result } : {}),
        ...(error ? { error } : {}),
        timedOut,
        cancelled: req.signal.aborted,
        declaredOutputs: rendered.declaredOutputs,
        requireDeclaredOutput: role.require_declared_output,
      });
      if (!judged.failure) {
        for (const path of judged.missing)
          this.emit(req, { type: 'SubtaskOutputMissing', subtask_id: s.id, declared_path: path });
        const response = result?.response ?? '';
        scope.done.set(s.id, { key: subtaskKey(s), response, outputs: rendered.declaredOutputs });
        scope.last = response;
        view.update(s.id, { state: 'completed', response, ended_at: new Date().toISOString() });
        this.emit(req, {
          type: 'SubtaskCompleted',
          subtask_id: s.id,
          role: s.role,
          success: true,
          attempts: attempt,
          elapsed_ms: Math.round(performance.now() - started),
          response_preview: preview(response),
        });
        return undefined;
      }
      const failure = judged.failure;
      if (timedOut) this.emit(req, { type: 'SubtaskTtlExpired', subtask_id: s.id, reason: 'wall_clock_exceeded' });
      const retry = attempt < role.retry.max_attempts && retryable(role, failure.kind) && !req.signal.aborted;
      this.emit(req, {
        type: 'SubtaskFailed',
        subtask_id: s.id,
        role: s.role,
        attempt,
        kind: failure.kind,
        reason: failure.message,
        will_retry: retry,
      });
      view.update(s.id, {
        state: retry ? 'running' : 'failed',
        error: failure.message,
        ended_at: new Date().toISOString(),
      });
      if (failure.kind === 'tool_repeat_guard' || failure.kind === 'max_tokens')
        this.escalateRole(scope, s.id, role, failure.kind);
      if (!retry) return failure;
    }
  }

  /** After a failed plan: the failing subtask's role moves one rung up its ladder, if it escalates on `signal`. */
  private escalate(scope: RunScope, plan: Plan, subtaskId: string, signal: EscalationSignal): void {
    const s = plan.subtasks.find((x) => x.id === subtaskId);
    const role = s ? this.opts.catalog.get(s.role) : undefined;
    if (role) this.escalateRole(scope, subtaskId, role, signal);
  }

  private escalateRole(scope: RunScope, subtaskId: string, role: Role, signal: EscalationSignal): void {
    if (!role.escalate_on.includes(signal)) return;
    const from = scope.tiers.get(subtaskId) ?? 0;
    const to = Math.min(from + 1, role.model_ladder.length - 1);
    if (to === from) return;
    scope.tiers.set(subtaskId, to);
    this.emit(scope.req, {
      type: 'SubtaskModelEscalated',
      subtask_id: subtaskId,
      from_tier: from,
      to_tier: to,
      from_model: role.model_ladder[from]!,
      to_model: role.model_ladder[to]!,
      reason: signal,
    });
  }
}

function retryable(role: Role, kind: SubtaskFailure['kind']): boolean {
  // a denial or a run cancelled from outside will not go differently a second time
  if (kind === 'denied' || kind === 'cancelled' || kind === 'hops') return false;
  return role.retry.on.length === 0 || role.retry.on.includes(kind);
}

function ok(response: string): ChildRunResult {
  return {
    agent_id: '',
    name: '',
    response,
    stop_reason: 'complete',
    iterations: 0,
    usage: { input_tokens: 0, output_tokens: 0 },
    error: null,
  };
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
