import { auditHeader, type CallHeader } from '../audit/call-context.js';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditInput } from '../audit/event.js';
import { AaosError, ErrorCode, isAaosError, toPlainError } from '../errors/index.js';
import type { Supervisor } from '../kernel/supervisor.js';
import type { RunOutcome } from '../protocol/index.js';
import type { StoreHealth } from '../store/lmdb-env.js';
import type { RunRecord, RunStore } from '../store/run-store.js';
import { preview } from '../audit/preview.js';
import type { Orchestration, Orchestrator } from '../orchestration/orchestrator.js';

export interface GoalHandle {
  run_id: string;
  workspace: string;
  /** settles when the run ends, with its final record (never rejects) */
  done: Promise<RunRecord>;
}

interface Waiting {
  record: RunRecord;
  resolve(rec: RunRecord): void;
}

/**
 * Goals submitted to the bootstrap agent. Each goal is written to the run store
 * before it is acknowledged, gets its own run id and workspace, and runs with up
 * to `maxConcurrent` others; the rest wait in order.
 */
export class GoalRunner {
  private agentId: string | undefined;
  private noAgentReason =
    'no bootstrap agent is running to take goals: start agentd with --bootstrap (or without --no-bootstrap)';
  private readonly queue: Waiting[] = [];
  private readonly active = new Map<string, AbortController>();
  private readonly settled = new Map<string, Promise<RunRecord>>();
  /** runs a previous process left unfinished: they continue from their journal */
  private readonly resumed = new Set<string>();
  private idleWaiters: Array<() => void> = [];
  private suspended = false;
  /** shutdown began: no queued goal starts, no new goal is taken */
  private holding = false;

  constructor(
    private readonly deps: {
      supervisor: Supervisor;
      runs: RunStore;
      emit: (e: AuditInput) => void;
      maxConcurrent: number;
      /** plan-mode runs go here; without it every goal runs direct */
      orchestrator?: Orchestrator;
      /** whether the store can write; goals are refused while it cannot */
      storeHealth?: () => StoreHealth;
      /** the run journal; a run's entries are dropped when it ends */
      journal?: { drop(runId: string): void };
    },
  ) {}

  /** The agent goals go to (the persistent bootstrap agent). */
  setAgent(agentId: string): void {
    this.agentId = agentId;
    this.pump();
  }

  /** The bootstrap agent is gone: refuse goals from now on, saying why. */
  clearAgent(why: string): void {
    this.agentId = undefined;
    this.noAgentReason = why;
  }

  get agent(): string | undefined {
    return this.agentId;
  }

  /**
   * `runId`: the id a cluster node took the goal under (default: a new one). `resume`: the
   * run's journal was copied in from the node that ran it before (it died): continue from it.
   */
  submit(goal: string, options: { orchestration?: Orchestration; runId?: string; resume?: boolean } = {}): GoalHandle {
    const text = goal.trim();
    if (!text) throw new AaosError(ErrorCode.TOOL_INPUT_INVALID, 'a goal must not be empty', { field: 'goal' });
    if (!this.agentId) throw new AaosError(ErrorCode.AGENT_NOT_FOUND, this.noAgentReason);
    if (this.deps.supervisor.isShuttingDown || this.holding)
      throw new AaosError(ErrorCode.SHUTTING_DOWN, 'the daemon is shutting down and takes no new goals');
    const health = this.deps.storeHealth?.();
    if (health && !health.writable) {
      throw new AaosError(
        ErrorCode.STORE_DEGRADED,
        `goals are refused while the store cannot write: ${health.reason ?? 'writes fail'}; they are taken again once a write succeeds`,
        {
          since: health.since,
        },
      );
    }
    const runId = options.runId ?? randomUUID();
    const workspace = join(this.deps.supervisor.dataDir, 'workspace', runId);
    mkdirSync(workspace, { recursive: true, mode: 0o750 });
    if (options.orchestration && options.orchestration !== 'direct' && !this.deps.orchestrator) {
      throw new AaosError(
        ErrorCode.CONFIG_INVALID,
        `orchestration '${options.orchestration}' needs the planner, which this runtime was built without`,
        { field: 'orchestration' },
      );
    }
    const record = this.deps.runs.create({
      run_id: runId,
      goal: text,
      agent_id: this.agentId,
      workspace,
      ...(options.orchestration ? { orchestration: options.orchestration } : {}),
    });
    if (options.resume) {
      this.resumed.add(runId);
      this.deps.emit({ type: 'RunResumed', ...goalHeader(record), previous_state: 'running' });
    }
    return this.enqueue(record);
  }

  /** Re-queue a run that a previous process left unfinished (crash recovery). */
  resume(record: RunRecord): GoalHandle {
    mkdirSync(record.workspace, { recursive: true, mode: 0o750 });
    this.resumed.add(record.run_id);
    const rec = this.deps.runs.update(record.run_id, {
      state: 'queued',
      ...(this.agentId ? { agent_id: this.agentId } : {}),
    });
    this.deps.emit({
      type: 'RunResumed',
      ...goalHeader(rec),
      previous_state: record.state,
    });
    return this.enqueue(rec);
  }

  private enqueue(record: RunRecord): GoalHandle {
    // whether it must wait for a slot: the live view shows it queued until RunStarted
    const waits =
      this.active.size >= this.deps.maxConcurrent ||
      this.queue.length > 0 ||
      !this.agentId ||
      this.holding ||
      this.suspended;
    this.deps.emit({
      type: 'RunSubmitted',
      ...goalHeader(record),
      goal_preview: preview(record.goal),
      workspace: record.workspace,
      ...(waits ? { queued: true, goals_running: this.active.size } : {}),
    });
    const done = new Promise<RunRecord>((resolve) => this.queue.push({ record, resolve }));
    this.settled.set(record.run_id, done);
    this.pump();
    return { run_id: record.run_id, workspace: record.workspace, done };
  }

  /** Promise of a run's final record, if this process knows the run. */
  whenDone(runId: string): Promise<RunRecord> | undefined {
    return this.settled.get(runId);
  }

  cancel(runId: string, reason = 'cancelled by request'): RunRecord {
    const record = this.deps.runs.get(runId);
    if (!record) throw new AaosError(ErrorCode.RUN_NOT_FOUND, `no run with id '${runId}'`, { run_id: runId });
    const idx = this.queue.findIndex((w) => w.record.run_id === runId);
    if (idx >= 0) {
      const [w] = this.queue.splice(idx, 1);
      const rec = this.finish(
        w!.record,
        { state: 'cancelled', error: { code: ErrorCode.CANCELLED, message: reason } },
        0,
      );
      w!.resolve(rec);
      this.settled.delete(runId);
      return rec;
    }
    this.active.get(runId)?.abort(new AaosError(ErrorCode.CANCELLED, reason));
    return this.deps.runs.get(runId) ?? record;
  }

  get running(): number {
    return this.active.size;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * The first step of a shutdown: running goals go on (for the grace period), queued
   * ones stay queued in the store for the next start, and nothing new is taken.
   */
  hold(): void {
    this.holding = true;
  }

  /**
   * Shutdown: stop starting goals and leave every unfinished one in the store as it is
   * (queued or running), so the next start resumes it instead of recording a cancel.
   */
  suspend(): void {
    this.suspended = true;
    for (const w of this.queue.splice(0)) w.resolve(w.record);
    for (const controller of this.active.values())
      controller.abort(
        new AaosError(
          ErrorCode.SHUTTING_DOWN,
          'the supervisor is shutting down; the run will resume on the next start',
        ),
      );
  }

  private pump(): void {
    if (!this.agentId || this.suspended || this.holding) return;
    while (this.active.size < this.deps.maxConcurrent && this.queue.length > 0) {
      const next = this.queue.shift()!;
      void this.start(next);
    }
  }

  private async start(w: Waiting): Promise<void> {
    const controller = new AbortController();
    const runId = w.record.run_id;
    this.active.set(runId, controller);
    const started = performance.now();
    let final: RunRecord;
    try {
      const rec = this.deps.runs.update(runId, { state: 'running', started_at: new Date().toISOString() });
      const queuedMs = Math.max(0, Date.parse(rec.started_at ?? '') - Date.parse(rec.created_at)) || 0;
      this.deps.emit({ type: 'RunStarted', ...goalHeader(rec), queued_ms: queuedMs });
    } catch (err) {
      // the store cannot record the start (full disk): the goal is not run; it stays queued in the store
      const plain = toPlainError(err);
      this.active.delete(runId);
      final = this.finish(
        w.record,
        { state: 'failed', error: { code: plain.code, message: `not started: ${plain.message}` } },
        0,
      );
      w.resolve(final);
      this.settled.delete(runId);
      this.afterRun();
      return;
    }
    try {
      const orchestrator = this.deps.orchestrator;
      // a run a previous process left unfinished continues from its journal (direct runs)
      const resume = this.resumed.delete(runId);
      let patch: Partial<RunRecord>;
      if (orchestrator && (await orchestrator.mode(w.record, this.agentId!, controller.signal)) === 'plan') {
        patch = await orchestrator.runPlan(w.record, this.agentId!, controller.signal);
      } else {
        const outcome = await this.deps.supervisor.run(this.agentId!, goalMessage(w.record), {
          runId,
          workspace: w.record.workspace,
          signal: controller.signal,
          journal: true,
          resume,
        });
        patch = patchFor(outcome);
      }
      final = this.suspended
        ? (this.deps.runs.get(runId) ?? w.record)
        : this.finish(w.record, patch, performance.now() - started);
    } catch (err) {
      const plain = toPlainError(err);
      final = this.suspended
        ? (this.deps.runs.get(runId) ?? w.record)
        : this.finish(
            w.record,
            {
              state: isAaosError(err, ErrorCode.CANCELLED) ? 'cancelled' : 'failed',
              error: { code: plain.code, message: plain.message },
            },
            performance.now() - started,
          );
    } finally {
      this.active.delete(runId);
    }
    w.resolve(final);
    this.settled.delete(runId);
    this.afterRun();
  }

  private afterRun(): void {
    this.pump();
    if (this.queue.length === 0 && this.active.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  private finish(record: RunRecord, patch: Partial<RunRecord>, elapsedMs: number): RunRecord {
    const ended = { ...patch, ended_at: new Date().toISOString() };
    let rec: RunRecord;
    let stored = true;
    try {
      rec = this.deps.runs.update(record.run_id, ended);
    } catch {
      // the outcome could not be stored (full disk): callers and streams still get it; the
      // stored record keeps its earlier state and its journal, so the next start resumes the run
      rec = { ...record, ...ended };
      stored = false;
    }
    if (stored) {
      try {
        this.deps.journal?.drop(record.run_id);
      } catch {
        // a journal that could not be dropped (full disk) only costs space; the run is ended
      }
    }
    this.deps.emit({
      type: 'RunCompleted',
      ...goalHeader(rec),
      status: rec.state,
      result_preview: preview(rec.result ?? rec.error?.message ?? ''),
      elapsed_ms: Math.round(elapsedMs),
    });
    return rec;
  }
}

/** The goal's own events: of the bootstrap agent, in the goal run (and so in its trace). */
function goalHeader(record: RunRecord): CallHeader {
  return auditHeader({ id: record.agent_id, name: 'bootstrap', runId: record.run_id });
}

function goalMessage(record: RunRecord): string {
  return `[Workspace for this run: ${record.workspace} — tell every child agent to write its files there.]\n\n${record.goal}`;
}

function patchFor(outcome: RunOutcome): Partial<RunRecord> {
  const base = { result: outcome.response, usage: outcome.usage };
  switch (outcome.stop_reason) {
    case 'complete':
      return { ...base, state: 'completed' };
    case 'cancelled':
      return { ...base, state: 'cancelled', error: errorOf(outcome, 'cancelled') };
    default:
      return { ...base, state: 'failed', error: errorOf(outcome, `stopped: ${outcome.stop_reason}`) };
  }
}

function errorOf(outcome: RunOutcome, fallback: string): { code: string; message: string } {
  if (outcome.error) return { code: outcome.error.code, message: outcome.error.message };
  const code = outcome.stop_reason === 'budget_exceeded' ? ErrorCode.BUDGET_EXCEEDED : ErrorCode.AGENT_FAILED;
  return { code, message: fallback };
}
