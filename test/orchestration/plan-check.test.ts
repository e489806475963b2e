import { describe, expect, it } from 'vitest';
import { ErrorCode, isAaosError } from '../../src/errors/index.js';
import { checkPlan, depths, topoBatches } from '../../src/orchestration/plan-check.js';
import { RoleCatalog } from '../../src/orchestration/role-catalog.js';

const catalog = await RoleCatalog.load();
const run = '/data/workspace/r1';
const analyze = (id: string, deps: string[] = [], extra: Record<string, unknown> = {}) => ({
  id,
  role: 'analyzer',
  depends_on: deps,
  params: { inputs: ['/data/inbox/a.md'], question: 'q', output: `{run}/${id}.md`, ...extra },
});

function refusal(raw: unknown): string {
  try {
    checkPlan(raw, catalog, run);
  } catch (err) {
    if (isAaosError(err, ErrorCode.PLAN_INVALID)) return err.message;
    throw err;
  }
  throw new Error('expected the plan to be refused');
}

describe('plan validation', () => {
  it('accepts a fan-in plan and batches it topologically', () => {
    const plan = checkPlan(
      {
        subtasks: [
          analyze('b'),
          analyze('a'),
          {
            id: 'w',
            role: 'writer',
            depends_on: ['a', 'b'],
            params: { inputs: ['{run}/a.md', '{run}/b.md'], output: '{run}/r.md', title: 't' },
          },
        ],
        final_output: '{run}/r.md',
      },
      catalog,
      run,
    );
    expect(topoBatches(plan.subtasks).map((b) => b.map((s) => s.id))).toEqual([['a', 'b'], ['w']]);
    expect(Object.fromEntries(depths(plan.subtasks))).toEqual({ a: 0, b: 0, w: 1 });
  });

  it('refuses duplicate ids, unknown roles, unknown dependencies, self-dependencies and cycles', () => {
    expect(refusal({ subtasks: [analyze('a'), analyze('a')], final_output: 'x' })).toMatch(
      /subtasks\[1\]\.id: duplicate id 'a'/,
    );
    expect(refusal({ subtasks: [{ ...analyze('a'), role: 'analyser' }], final_output: 'x' })).toMatch(
      /subtasks\[0\]\.role: unknown role 'analyser' \(did you mean 'analyzer'\?\)/,
    );
    expect(refusal({ subtasks: [analyze('a', ['z'])], final_output: 'x' })).toMatch(
      /subtasks\[0\]\.depends_on\[0\]: unknown subtask 'z'/,
    );
    expect(refusal({ subtasks: [analyze('a', ['a'])], final_output: 'x' })).toMatch(/depends on itself/);
    expect(
      refusal({ subtasks: [analyze('a', ['c']), analyze('b', ['a']), analyze('c', ['b'])], final_output: 'x' }),
    ).toMatch(/dependency cycle among 'a', 'b', 'c'/);
  });

  it('refuses a shape that is not a plan, and parameters that do not fit the role, naming the field', () => {
    expect(refusal({ subtasks: [], final_output: 'x' })).toMatch(/at least one subtask/);
    expect(refusal({ subtasks: [analyze('a')] })).toMatch(/final_output/);
    expect(refusal({ subtasks: [analyze('a')], final_output: 'x', extra: 1 })).toMatch(/extra/);
    const { question: _q, ...noQuestion } = analyze('a').params;
    expect(refusal({ subtasks: [{ ...analyze('a'), params: noQuestion }], final_output: 'x' })).toMatch(
      /subtasks\[0\]\.params\.question: .*missing required parameter/,
    );
  });
});
