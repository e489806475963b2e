import { goalTraceId } from '../../src/audit/trace-ids.js';
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
    const handle = t.runtime.submitGoal('Report on the bike-share pilot.', { orchestration: 'plan' });
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
    const order = e
      .filter((x) => x.type === 'SubtaskStarted' || x.type === 'SubtaskCompleted')
      .map((x) => `${x.type}:${(x as { subtask_id: string }).subtask_id}`);
    expect(order.slice(0, 2).sort()).toEqual(['SubtaskStarted:ridership', 'SubtaskStarted:survey']);
    expect(order.at(-2)).toBe('SubtaskStarted:report');
    expect(order.at(-1)).toBe('SubtaskCompleted:report');
    // every subtask was a child of the bootstrap agent, narrowed to it
    const spawned = ofType(e, 'AgentSpawned').filter((x) => x.manifest_name !== 'bootstrap');
    expect(spawned.map((x) => x.manifest_name).sort()).toEqual(['analyzer', 'analyzer', 'writer']);
    for (const s of spawned) expect(s).toMatchObject({ parent_id: t.runtime.bootstrapAgentId, depth: 1 });
    // one goal, one trace: the plan, its subtasks' children and everything they did
    expect(new Set(e.map((x) => x.trace_id))).toEqual(new Set([goalTraceId(handle.run_id)]));
    expect(ofType(e, 'AgentExecutionStarted').length).toBeGreaterThanOrEqual(3);
    const grants = ofType(e, 'CapabilityGranted')
      .filter((g) => spawned.some((s) => s.agent_id === g.agent_id))
      .map((g) => g.capability);
    expect(grants).toContain(`file_read: ${join(t.dir, 'inbox', 'ridership.md')}`);
    expect(grants.filter((g) => g.startsWith('file_write'))).toEqual(
      [
        expect.stringContaining('-notes.md'),
        expect.stringContaining('-notes.md'),
        `file_write: ${join(handle.workspace, 'report.md')}`,
      ].sort() as never,
    );
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
  return writeAt(
    dir,
    'planner.yaml',
    `turns:\n${plans.map((p) => `  - text: ${JSON.stringify(JSON.stringify(p))}`).join('\n')}\n`,
  );
}

describe('failures, limits and refusals', { timeout: 120_000 }, () => {
  it('a failing subtask makes the planner replan with the failure; the new plan succeeds (the shipped example)', async () => {
    const t = await planRuntime({
      AAOS_PLANNER_MODEL: `scripted:${join(import.meta.dirname, '..', '..', 'examples', 'plans', 'replan-planner.yaml')}`,
    });
    close = t.close;
    const handle = t.runtime.submitGoal('Report on the bike-share pilot.', { orchestration: 'plan' });
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
      writeAt(
        dir,
        'roles/slow.yaml',
        [
          'name: slow',
          'model: scripted:slow-script.yaml',
          'parameters: {output: {type: path, required: true}}',
          'capabilities: ["tool: file_write", "file_write: {output}"]',
          'message_template: "write {output}"',
          'retry: {max_attempts: 2, on: [timeout]}',
        ].join('\n'),
      );
      writeAt(dir, 'roles/slow-script.yaml', 'latency_ms: 60000\nturns:\n  - text: never in time\n');
      const planner = plannerScript(dir, {
        subtasks: [{ id: 'late', role: 'slow', params: { output: '{run}/x.md' }, ttl: { max_wall_clock_s: 0.5 } }],
        final_output: '{run}/x.md',
      });
      const t = await planRuntime(ROLE_DIR_ENV(dir, planner, { AAOS_MAX_REPLANS: '0' }));
      close = t.close;
      const handle = t.runtime.submitGoal('be slow', { orchestration: 'plan' });
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
      const kids = ofType(e, 'AgentSpawned')
        .filter((s) => s.manifest_name === 'slow')
        .map((s) => s.agent_id);
      expect(kids).toHaveLength(2);
      // the supervisor's agent table itself (not the façade's view): nothing left of them
      for (const id of kids) expect(t.runtime.internalsForTests().supervisor.record(id)).toBeUndefined();
    } finally {
      cleanup();
    }
  });

  it('a role escalates its model along its ladder when the tool repeat guard stops it, and the retry succeeds', async () => {
    const t0 = await import('../support/kernel.js');
    const { dir, cleanup } = t0.tempDir();
    try {
      writeAt(
        dir,
        'roles/loopy.yaml',
        [
          'name: loopy',
          'model: scripted:loop.yaml',
          'model_ladder: [scripted:loop.yaml, scripted:good.yaml]',
          'parameters: {output: {type: path, required: true}}',
          'capabilities: ["tool: echo", "tool: file_write", "file_write: {output}"]',
          'message_template: "write {output}"',
          'retry: {max_attempts: 2}',
          'escalate_on: [tool_repeat_guard]',
          'require_declared_output: true',
        ].join('\n'),
      );
      writeAt(
        dir,
        'roles/loop.yaml',
        JSON.stringify([1, 2, 3, 4].map(() => ({ tool_calls: [{ name: 'echo', input: { message: 'same' } }] }))),
      );
      writeAt(
        dir,
        'roles/good.yaml',
        JSON.stringify([
          { tool_calls: [{ name: 'file_write', input: { path: '{metadata:params.output}', content: 'ok' } }] },
          { text: 'written' },
        ]),
      );
      const planner = plannerScript(dir, {
        subtasks: [{ id: 'l', role: 'loopy', params: { output: '{run}/l.md' } }],
        final_output: '{run}/l.md',
      });
      const t = await planRuntime(ROLE_DIR_ENV(dir, planner, { AAOS_MAX_REPLANS: '0' }));
      close = t.close;
      const handle = t.runtime.submitGoal('loop', { orchestration: 'plan' });
      const rec = await handle.done;
      expect(rec.error).toBeUndefined();
      expect(rec.state).toBe('completed');
      const e = t.events.filter((x) => x.run_id === handle.run_id);
      expect(ofType(e, 'ToolRepeatGuardFired')).toHaveLength(1);
      expect(ofType(e, 'SubtaskFailed')).toEqual([
        expect.objectContaining({ subtask_id: 'l', attempt: 1, kind: 'tool_repeat_guard', will_retry: true }),
      ]);
      expect(ofType(e, 'SubtaskModelEscalated')).toEqual([
        expect.objectContaining({
          subtask_id: 'l',
          from_tier: 0,
          to_tier: 1,
          from_model: `scripted:${join(dir, 'roles', 'loop.yaml')}`,
          to_model: `scripted:${join(dir, 'roles', 'good.yaml')}`,
          reason: 'tool_repeat_guard',
        }),
      ]);
      expect(ofType(e, 'SubtaskStarted').map((x) => [x.attempt, x.model])).toEqual([
        [1, `scripted:${join(dir, 'roles', 'loop.yaml')}`],
        [2, `scripted:${join(dir, 'roles', 'good.yaml')}`],
      ]);
      expect(readFileSync(join(handle.workspace, 'l.md'), 'utf8')).toBe('ok');
    } finally {
      cleanup();
    }
  });

  it('a cycle, an unknown role or a missing role parameter is refused before anything runs, naming the field', async () => {
    const t0 = await import('../support/kernel.js');
    const { dir, cleanup } = t0.tempDir();
    const a = {
      id: 'a',
      role: 'analyzer',
      params: { inputs: ['/x'], question: 'q', output: '{run}/a.md' },
      depends_on: ['b'],
    };
    const b = {
      id: 'b',
      role: 'analyzer',
      params: { inputs: ['/x'], question: 'q', output: '{run}/b.md' },
      depends_on: ['a'],
    };
    const cases: Array<[unknown, RegExp]> = [
      [{ subtasks: [a, b], final_output: '{run}/a.md' }, /dependency cycle among 'a', 'b'/],
      [
        { subtasks: [{ ...a, depends_on: [], role: 'analyser' }], final_output: '{run}/a.md' },
        /subtasks\[0\]\.role: unknown role 'analyser' \(did you mean 'analyzer'\?\)/,
      ],
      [
        {
          subtasks: [{ ...a, depends_on: [], params: { inputs: ['/x'], output: '{run}/a.md' } }],
          final_output: '{run}/a.md',
        },
        /subtasks\[0\]\.params\.question: .*missing required parameter/,
      ],
    ];
    try {
      for (const [index, [plan, expected]] of cases.entries()) {
        const planner = plannerScript(join(dir, String(index)), plan);
        const t = await planRuntime({ AAOS_PLANNER_MODEL: `scripted:${planner}`, AAOS_MAX_REPLANS: '0' });
        try {
          const handle = t.runtime.submitGoal('anything', { orchestration: 'plan' });
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

describe('limits, cancellation and auto', { timeout: 120_000 }, () => {
  it('a subtask without hops left at its plan depth fails before it runs (hops_exhausted)', async () => {
    const t0 = await import('../support/kernel.js');
    const { dir, cleanup } = t0.tempDir();
    try {
      const a = {
        id: 'a',
        role: 'analyzer',
        params: { inputs: ['{data_dir}/inbox/survey.md'], question: 'q', output: '{run}/a.md' },
      };
      const b = {
        id: 'b',
        role: 'writer',
        depends_on: ['a'],
        params: { inputs: ['{run}/a.md'], output: '{run}/b.md', title: 't' },
        ttl: { max_hops: 1 },
      };
      const planner = plannerScript(dir, { subtasks: [a, b], final_output: '{run}/b.md' });
      const t = await planRuntime({ AAOS_PLANNER_MODEL: `scripted:${planner}`, AAOS_MAX_REPLANS: '0' });
      close = t.close;
      const handle = t.runtime.submitGoal('hops', { orchestration: 'plan' });
      const rec = await handle.done;
      expect(rec.state).toBe('failed');
      expect(rec.error?.message).toMatch(/subtask 'b': no hops left \(max_hops 1 at plan depth 1\)/);
      const e = t.events.filter((x) => x.run_id === handle.run_id);
      expect(ofType(e, 'SubtaskTtlExpired')).toEqual([
        expect.objectContaining({ subtask_id: 'b', reason: 'hops_exhausted' }),
      ]);
      expect(ofType(e, 'SubtaskStarted').map((s) => s.subtask_id)).toEqual(['a']);
    } finally {
      cleanup();
    }
  });

  it('cancelling a plan run stops its running subtasks, leaves no child behind and records the plan as cancelled', async () => {
    const t0 = await import('../support/kernel.js');
    const { dir, cleanup } = t0.tempDir();
    try {
      writeAt(
        dir,
        'roles/slow.yaml',
        'name: slow\nmodel: scripted:slow-script.yaml\nparameters: {n: {type: string, required: true}}\nmessage_template: "wait {n}"\n',
      );
      writeAt(dir, 'roles/slow-script.yaml', 'latency_ms: 60000\nturns:\n  - text: late\n');
      const planner = plannerScript(dir, {
        subtasks: [
          { id: 'x', role: 'slow', params: { n: '1' } },
          { id: 'y', role: 'slow', params: { n: '2' } },
          { id: 'z', role: 'slow', params: { n: '3' }, depends_on: ['x', 'y'] },
        ],
        final_output: '{run}/none',
      });
      const t = await planRuntime(ROLE_DIR_ENV(dir, planner));
      close = t.close;
      const handle = t.runtime.submitGoal('wait', { orchestration: 'plan' });
      const { waitFor } = t0;
      await waitFor(
        () => ofType(t.events, 'AgentSpawned').filter((s) => s.manifest_name === 'slow').length === 2,
        60_000,
        'both slow children',
      );
      t.runtime.cancelRun(handle.run_id, 'enough');
      const rec = await handle.done;
      expect(rec.state).toBe('cancelled');
      for (const s of ofType(t.events, 'AgentSpawned').filter((x) => x.manifest_name === 'slow'))
        expect(t.runtime.internalsForTests().supervisor.record(s.agent_id)).toBeUndefined();
      const e = t.events.filter((x) => x.run_id === handle.run_id);
      expect(
        ofType(e, 'SubtaskStarted')
          .map((s) => s.subtask_id)
          .sort(),
      ).toEqual(['x', 'y']);
      expect(ofType(e, 'PlanReplanned')).toEqual([]);
      const view = readPlanView(handle.workspace)!;
      expect(view.state).toBe('cancelled');
      expect(view.subtasks.find((s) => s.id === 'z')?.state).toBe('skipped');
    } finally {
      cleanup();
    }
  });

  it('orchestration auto asks one model call and runs the goal as the answer says', async () => {
    const t = await planRuntime({ AAOS_ORCHESTRATION: 'auto' });
    close = t.close;
    const handle = t.runtime.submitGoal('Report on the bike-share pilot.');
    const rec = await handle.done;
    expect(rec.state).toBe('completed');
    const e = t.events.filter((x) => x.run_id === handle.run_id);
    expect(ofType(e, 'OrchestrationSelected')).toEqual([expect.objectContaining({ mode: 'plan', source: 'auto' })]);
    expect(ofType(e, 'UsageReported').filter((u) => u.agent_name === 'classifier')).toHaveLength(1);
    expect(ofType(e, 'PlanProduced')).toHaveLength(1);
  });

  it('a planner cannot aim a subtask at the plan record itself', async () => {
    const t0 = await import('../support/kernel.js');
    const { dir, cleanup } = t0.tempDir();
    try {
      const planner = plannerScript(dir, {
        subtasks: [
          {
            id: 'w',
            role: 'writer',
            params: { inputs: ['{data_dir}/inbox/survey.md'], output: '{run}/plan.json', title: 't' },
          },
        ],
        final_output: '{run}/plan.json',
      });
      const t = await planRuntime({ AAOS_PLANNER_MODEL: `scripted:${planner}`, AAOS_MAX_REPLANS: '0' });
      close = t.close;
      const rec = await t.runtime.submitGoal('overwrite', { orchestration: 'plan' }).done;
      expect(rec.error?.code).toBe(ErrorCode.PLAN_INVALID);
      expect(rec.error?.message).toMatch(/params\.output: .*reserved for the plan's own record/);
    } finally {
      cleanup();
    }
  });
});
