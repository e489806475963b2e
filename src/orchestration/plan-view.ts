import { randomUUID } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Plan } from './plan.js';

/** The file in a run's workspace holding the plan and where each subtask stands. */
export const PLAN_FILE = 'plan.json';

const SubtaskState = z.enum(['pending', 'running', 'completed', 'failed', 'skipped', 'reused']);

export const SubtaskView = z.object({
  id: z.string(),
  role: z.string(),
  depends_on: z.array(z.string()),
  params: z.record(z.string(), z.unknown()),
  state: SubtaskState,
  attempts: z.int().min(0),
  model: z.string().optional(),
  agent_id: z.string().optional(),
  response: z.string().optional(),
  error: z.string().optional(),
  started_at: z.string().optional(),
  ended_at: z.string().optional(),
});
export type SubtaskView = z.infer<typeof SubtaskView>;

export const PlanViewRecord = z.object({
  v: z.literal(1),
  run_id: z.string(),
  goal: z.string(),
  state: z.enum(['planning', 'running', 'completed', 'failed', 'cancelled']),
  replans_used: z.int().min(0),
  final_output: z.string().optional(),
  subtasks: z.array(SubtaskView),
  /** earlier plans of this run and why each was replaced */
  history: z.array(z.object({ plan: z.unknown(), failure: z.string() })),
  error: z.string().optional(),
});
export type PlanViewRecord = z.infer<typeof PlanViewRecord>;

/** Reads a run's plan file; undefined when there is none or it is unreadable. */
export function readPlanView(workspace: string): PlanViewRecord | undefined {
  try {
    const parsed = PlanViewRecord.safeParse(JSON.parse(readFileSync(join(workspace, PLAN_FILE), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The live state of one plan run, written to `<workspace>/plan.json` on every change
 * (through a temporary file and a rename, so a reader never sees half a file).
 */
export class PlanView {
  readonly record: PlanViewRecord;

  constructor(
    private readonly workspace: string,
    runId: string,
    goal: string,
  ) {
    this.record = { v: 1, run_id: runId, goal, state: 'planning', replans_used: 0, subtasks: [], history: [] };
    this.save();
  }

  /** A new plan replaces the subtasks; the one it replaces goes to history with its failure. */
  adopt(plan: Plan, failure?: string): void {
    if (failure !== undefined && this.record.subtasks.length > 0) {
      this.record.history.push({
        plan: { subtasks: this.record.subtasks, final_output: this.record.final_output },
        failure,
      });
    }
    this.record.final_output = plan.final_output;
    this.record.subtasks = plan.subtasks.map((s) => ({
      id: s.id,
      role: s.role,
      depends_on: s.depends_on,
      params: s.params,
      state: 'pending',
      attempts: 0,
    }));
    this.record.state = 'running';
    this.save();
  }

  update(id: string, patch: Partial<SubtaskView>): void {
    const sub = this.record.subtasks.find((s) => s.id === id);
    if (sub) Object.assign(sub, patch);
    this.save();
  }

  finish(state: PlanViewRecord['state'], patch: Partial<PlanViewRecord> = {}): void {
    Object.assign(this.record, patch, { state });
    this.save();
  }

  private save(): void {
    const file = join(this.workspace, PLAN_FILE);
    const tmp = `${file}.${randomUUID()}.tmp`;
    try {
      writeFileSync(tmp, `${JSON.stringify(this.record, null, 2)}\n`, { mode: 0o640 });
      renameSync(tmp, file);
    } catch {
      // the plan view is a convenience copy; the audit log has every step
    }
  }
}
