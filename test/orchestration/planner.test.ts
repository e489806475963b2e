import { describe, expect, it } from 'vitest';
import { ErrorCode, isAaosError } from '../../src/errors/index.js';
import type { ModelPort } from '../../src/kernel/ports.js';
import { firstJsonObject } from '../../src/orchestration/json-block.js';
import { Planner } from '../../src/orchestration/planner.js';
import { RoleCatalog } from '../../src/orchestration/role-catalog.js';

const catalog = await RoleCatalog.load();
const caller = { id: 'planner-r', name: 'planner', runId: 'r' };

function recording(
  ...answers: string[]
): ModelPort & { requests: Array<{ system: string; messages: Array<{ content: unknown }> }> } {
  const port = {
    requests: [] as Array<{ system: string; messages: Array<{ content: unknown }> }>,
    registerAgent() {},
    releaseAgent() {},
    cancelAgent() {},
    maxContextTokens: () => 100_000,
    async complete(_a: unknown, _m: string, request: { system: string; messages: Array<{ content: unknown }> }) {
      port.requests.push(request);
      const text = answers.shift() ?? '';
      return {
        content: [{ type: 'text' as const, text }],
        stop_reason: 'end_turn' as const,
        usage: { input_tokens: 1, output_tokens: 1 },
        model: 'm',
      };
    },
  };
  return port;
}

const PLAN = {
  subtasks: [
    {
      id: 'w',
      role: 'writer',
      params: { inputs: ['/data/inbox/a.md'], output: '{run}/r.md', title: 'T {with braces}' },
    },
  ],
  final_output: '{run}/r.md',
};

describe('the planner', () => {
  it('finds the first balanced JSON object in prose and code fences, skipping braces inside strings', () => {
    expect(firstJsonObject('Sure! ```json\n{"a": "}{", "b": {"c": 1}}\n``` done {"x": 2}')).toBe(
      '{"a": "}{", "b": {"c": 1}}',
    );
    expect(firstJsonObject('no json here')).toBeUndefined();
    expect(firstJsonObject('{ unbalanced')).toBeUndefined();
  });

  it('shows the model the plan format and the role catalog; a replan carries the failed plan and the failure', async () => {
    const models = recording(`Here is the plan:\n${JSON.stringify(PLAN)}`, JSON.stringify(PLAN));
    const planner = new Planner({ models, catalog, model: 'm' });
    const first = await planner.plan({
      goal: 'write it',
      run: '/runs/r',
      dataDir: '/data',
      caller,
      signal: new AbortController().signal,
    });
    expect(first.plan.subtasks[0]!.params['title']).toBe('T {with braces}');
    expect(models.requests[0]!.system).toContain('"final_output"');
    for (const role of ['analyzer', 'fetcher', 'generalist', 'reviewer', 'writer'])
      expect(models.requests[0]!.system).toContain(`- ${role}:`);
    expect(models.requests[0]!.system).toMatch(/- writer: .*Parameters: inputs: string_list/);
    await planner.plan({
      goal: 'write it',
      run: '/runs/r',
      dataDir: '/data',
      caller,
      signal: new AbortController().signal,
      previous: { plan: PLAN, failure: "subtask 'w': ran past its wall-clock limit" },
    });
    const replan = String(models.requests[1]!.messages[0]!.content);
    expect(replan).toContain('PREVIOUS PLAN FAILED');
    expect(replan).toContain("subtask 'w': ran past its wall-clock limit");
    expect(replan).toContain('"id":"w"');
  });

  it('refuses an answer without a plan, or with JSON that does not parse, as PLAN_INVALID', async () => {
    for (const answer of ['I cannot plan this.', '{"subtasks": [,]}']) {
      const planner = new Planner({ models: recording(answer), catalog, model: 'm' });
      const err = await planner
        .plan({ goal: 'g', run: '/runs/r', dataDir: '/data', caller, signal: new AbortController().signal })
        .catch((e: unknown) => e);
      expect(isAaosError(err, ErrorCode.PLAN_INVALID)).toBe(true);
    }
  });
});
