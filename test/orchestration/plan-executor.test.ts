import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/index.js';
import { readPlanView } from '../../src/orchestration/plan-view.js';
import { ofType, planRuntime, writeAt } from './support.js';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('plans run by the executor, with the scripted model and real workers', { timeout: 120_000 }, () => {
  it('a fan-in plan: two analyzers in parallel, then a writer that reads both outputs', async () => {
    const t = await planRuntime();
    close = t.close;
    const handle = t.runtime.goals.submit('Report on the bike-share pilot.', { orchestration: 'plan' });
    const rec = await handle.done;
    expect(rec.error).toBeUndefined();
    expect(rec.state).toBe('completed');
    const report = readFileSync(join(handle.workspace, 'report.md'), 'utf8');
    // the writer read both analyzers' outputs
    expect(report).toContain('# Bike-share pilot: usage and opinion');
    expect(report).toContain('Findings: How was the service used?');
    expect(report).toContain('Findings: What do riders think of it?');
    expect(rec.result).toContain(join(handle.workspace, 'report.md'));

    const e = t.events.filter((x) => x.run_id === handle.run_id);
    expect(ofType(e, 'PlanProduced')[0]).toMatchObject({ subtask_count: 3, replans_used: 0 });
    // both analyzers started before either finished: one batch, in parallel
    const order = e.filter((x) => x.type === 'SubtaskStarted' || x.type === 'SubtaskCompleted').map((x) => `${x.type}:${(x as { subtask_id: string }).subtask_id}`);
    expect(order.slice(0, 2).sort()).toEqual(['SubtaskStarted:ridership', 'SubtaskStarted:survey']);
    expect(order.at(-2)).toBe('SubtaskStarted:report');
    expect(order.at(-1)).toBe('SubtaskCompleted:report');
    // every subtask was a child of the bootstrap agent, narrowed to it
    const spawned = ofType(e, 'AgentSpawned').filter((x) => x.manifest_name !== 'bootstrap');
    expect(spawned.map((x) => x.manifest_name).sort()).toEqual(['analyzer', 'analyzer', 'writer']);
    for (const s of spawned) expect(s).toMatchObject({ parent_id: t.runtime.goals.agent, depth: 1 });
    const grants = ofType(e, 'CapabilityGranted').filter((g) => spawned.some((s) => s.agent_id === g.agent_id)).map((g) => g.capability);
    expect(grants).toContain(`file_read: ${join(t.dir, 'inbox', 'ridership.md')}`);
    expect(grants.filter((g) => g.startsWith('file_write'))).toEqual([
      expect.stringContaining('-notes.md'),
      expect.stringContaining('-notes.md'),
      `file_write: ${join(handle.workspace, 'report.md')}`,
    ].sort() as never);
    // the plan and where it stands is in the run's workspace
    const view = readPlanView(handle.workspace)!;
    expect(view.state).toBe('completed');
    expect(view.subtasks.map((s) => [s.id, s.state])).toEqual([
      ['ridership', 'completed'],
      ['survey', 'completed'],
      ['report', 'completed'],
    ]);
  });
});

const ROLE_DIR_ENV = (dir: string, planner: string, extra: NodeJS.ProcessEnv = {}) => ({
  AAOS_ROLES_DIR: join(dir, 'roles'),
  AAOS_PLANNER_MODEL: `scripted:${planner}`,
  ...extra,
});

/** A planner script answering with these plans, in order. */
function plannerScript(dir: string, ...plans: unknown[]): string {
  return writeAt(dir, 'planner.yaml', `turns:\n${plans.map((p) => `  - text: ${JSON.stringify(JSON.stringify(p))}`).join('\n')}\n`);
}

describe('failures, limits and refusals', { timeout: 120_000 }, () => {
  it('a failing subtask makes the planner replan with the failure; the new plan succeeds (the shipped example)', async () => {
    const t = await planRuntime({ AAOS_PLANNER_MODEL: `scripted:${join(import.meta.dirname, '..', '..', 'examples', 'plans', 'replan-planner.yaml')}` });
    close = t.close;
    const handle = t.runtime.goals.submit('Report on the bike-share pilot.', { orchestration: 'plan' });
    const rec = await handle.done;
    expect(rec.state).toBe('completed');
    const e = t.events.filter((x) => x.run_id === handle.run_id);
    const failed = ofType(e, 'SubtaskFailed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ subtask_id: 'ridership', kind: 'denied', will_retry: false });
    expect(failed[0]!.reason).toContain('/etc/hostname');
    const replanned = ofType(e, 'PlanReplanned');
    expect(replanned).toEqual([expect.objectContaining({ replans_used: 1, failed_subtask: 'ridership' })]);
    expect(replanned[0]!.reason).toContain('/etc/hostname');
    expect(ofType(e, 'PlanProduced').map((p) => p.replans_used)).toEqual([0, 1]);
    // the sibling that succeeded is not run again
    expect(ofType(e, 'SubtaskCompleted').find((c) => c.subtask_id === 'survey' && c.reused)).toBeDefined();
    expect(ofType(e, 'AgentSpawned').filter((s) => s.manifest_name === 'analyzer')).toHaveLength(2);
    expect(existsSync(join(handle.workspace, 'report.md'))).toBe(true);
    const view = readPlanView(handle.workspace)!;
    expect(view.replans_used).toBe(1);
    expect(view.history).toHaveLength(1);
    expect(view.history[0]!.failure).toContain('/etc/hostname');
  });

  it('a subtask past its wall-clock limit is stopped, retried per its role, then fails the run', async () => {
    const t0 = await import('../support/kernel.js');
    const { dir, cleanup } = t0.tempDir();
    try {
      writeAt(dir, 'roles/slow.yaml', [
        'name: slow',
        'model: scripted:slow-script.yaml',
        'parameters: {output: {type: path, required: true}}',
        'capabilities: ["tool: file_write", "file_write: {output}"]',
        'message_template: "write {output}"',
        'retry: {max_attempts: 2, on: [timeout]}',
      ].join('\n'));
      writeAt(dir, 'roles/slow-script.yaml', 'latency_ms: 60000\nturns:\n  - text: never in time\n');
      const planner = plannerScript(dir, { subtasks: [{ id: 'late', role: 'slow', params: { output: '{run}/x.md' }, ttl: { max_wall_clock_s: 0.5 } }], final_output: '{run}/x.md' });
      const t = await planRuntime(ROLE_DIR_ENV(dir, planner, { AAOS_MAX_REPLANS: '0' }));
      close = t.close;
      const handle = t.runtime.goals.submit('be slow', { orchestration: 'plan' });
      const rec = await handle.done;
      expect(rec.state).toBe('failed');
      expect(rec.error?.code).toBe(ErrorCode.PLAN_FAILED);
      expect(rec.error?.message).toMatch(/subtask 'late': ran past its wall-clock limit/);
      const e = t.events.filter((x) => x.run_id === handle.run_id);
      expect(ofType(e, 'SubtaskTtlExpired')).toEqual([
        expect.objectContaining({ subtask_id: 'late', reason: 'wall_clock_exceeded' }),
        expect.objectContaining({ subtask_id: 'late', reason: 'wall_clock_exceeded' }),
      ]);
      expect(ofType(e, 'SubtaskFailed').map((f) => [f.attempt, f.kind, f.will_retry])).toEqual([
        [1, 'timeout', true],
        [2, 'timeout', false],
      ]);
      // both children were stopped, none is left running
      const kids = ofType(e, 'AgentSpawned').filter((s) => s.manifest_name === 'slow').map((s) => s.agent_id);
      expect(kids).toHaveLength(2);
      for (const id of kids) expect(t.runtime.supervisor.agents.get(id)).toBeUndefined();
    } finally {
      cleanup();
    }
  });

  it('a cycle, an unknown role or a missing role parameter is refused before anything runs, naming the field', async () => {
    const t0 = await import('../support/kernel.js');
    const { dir, cleanup } = t0.tempDir();
    const a = { id: 'a', role: 'analyzer', params: { inputs: ['/x'], question: 'q', output: '{run}/a.md' }, depends_on: ['b'] };
    const b = { id: 'b', role: 'analyzer', params: { inputs: ['/x'], question: 'q', output: '{run}/b.md' }, depends_on: ['a'] };
    const cases: Array<[unknown, RegExp]> = [
      [{ subtasks: [a, b], final_output: '{run}/a.md' }, /dependency cycle among 'a', 'b'/],
      [{ subtasks: [{ ...a, depends_on: [], role: 'analyser' }], final_output: '{run}/a.md' }, /subtasks\[0\]\.role: unknown role 'analyser' \(did you mean 'analyzer'\?\)/],
      [{ subtasks: [{ ...a, depends_on: [], params: { inputs: ['/x'], output: '{run}/a.md' } }], final_output: '{run}/a.md' }, /subtasks\[0\]\.params\.question: .*missing required parameter/],
    ];
    try {
      for (const [index, [plan, expected]] of cases.entries()) {
        const planner = plannerScript(join(dir, String(index)), plan);
        const t = await planRuntime({ AAOS_PLANNER_MODEL: `scripted:${planner}`, AAOS_MAX_REPLANS: '0' });
        try {
          const handle = t.runtime.goals.submit('anything', { orchestration: 'plan' });
          const rec = await handle.done;
          expect(rec.state).toBe('failed');
          expect(rec.error?.code).toBe(ErrorCode.PLAN_INVALID);
          expect(rec.error?.message).toMatch(expected);
          const e = t.events.filter((x) => x.run_id === handle.run_id);
          expect(ofType(e, 'SubtaskStarted')).toEqual([]);
          expect(ofType(e, 'AgentSpawned')).toEqual([]);
          expect(ofType(e, 'PlanProduced')).toEqual([]);
        } finally {
          await t.close();
        }
      }
    } finally {
      cleanup();
    }
  });
});
