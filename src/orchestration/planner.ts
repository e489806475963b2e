import { AaosError, ErrorCode } from '../errors/index.js';
import type { CallContext } from '../audit/call-context.js';
import type { ModelPort } from '../kernel/ports.js';
import type { ModelResponse } from '../providers/model.js';
import { checkPlan } from './plan-check.js';
import type { Plan } from './plan.js';
import type { Role } from './role.js';
import type { RoleCatalog } from './role-catalog.js';
import { firstJsonObject } from './json-block.js';

export interface PlanRequest {
  goal: string;
  /** the run's root directory (`{run}`) */
  run: string;
  dataDir: string;
  /** who the planner's model calls are made for (its budget chain ends at the goal's agent) */
  caller: CallContext;
  signal: AbortSignal;
  /** a replan: the plan that failed and why */
  previous?: { plan: unknown; failure: string };
}

export interface PlannerOptions {
  models: ModelPort;
  catalog: RoleCatalog;
  model: string;
  maxTokens?: number;
}

function roleLine(role: Role): string {
  const params = Object.entries(role.parameters)
    .map(([n, p]) => `${n}${p.required ? '' : '?'}: ${p.type}${p.description ? ` (${p.description})` : ''}`)
    .join('; ');
  const first = role.system_prompt.split('\n').find((l) => l.trim() !== '') ?? '';
  return `- ${role.name}: ${first.trim()} Parameters: ${params || 'none'}.${role.require_declared_output ? ' Must write its declared output.' : ''}`;
}

/** The planner's instructions: the plan format, the rules, the role catalog. */
function plannerSystemPrompt(catalog: RoleCatalog): string {
  return [
    'You turn a goal into a plan of subtasks for a team of agents. Answer with one JSON object and nothing else:',
    '{"subtasks": [{"id": "<short id>", "role": "<role name>", "params": {<the role\'s parameters>}, "depends_on": ["<id>", …]}], "final_output": "<path of the file the run produces>"}',
    '',
    'Rules:',
    "- {run} is the run's own directory; write every intermediate and final file under it as a full file path, e.g. {run}/notes.md.",
    '- A path the goal names explicitly stays exactly as written.',
    '- A subtask that feeds another declares its output path; the dependant lists that path in its inputs and depends on it.',
    '- Prefer independent subtasks that can run in parallel; do not add an analyzer that only repeats another.',
    '- Use the generalist role only when no narrower role fits.',
    '- final_output is the path the last writer writes.',
    '',
    'Roles:',
    ...catalog.list().map(roleLine),
  ].join('\n');
}

function userMessage(req: PlanRequest): string {
  const parts = [
    `Goal: ${req.goal}`,
    `The run's directory ({run}): ${req.run}`,
    `Operator input files live under ${req.dataDir}/inbox.`,
  ];
  if (req.previous) {
    parts.push(
      '',
      'PREVIOUS PLAN FAILED. Diagnose the failure and produce a corrected plan; do not repeat the failing plan verbatim.',
      `Failure: ${req.previous.failure}`,
      `Previous plan: ${JSON.stringify(req.previous.plan)}`,
    );
  }
  return parts.join('\n');
}

function textOf(response: ModelResponse): string {
  return response.content
    .filter((b) => b.type === 'text')
    .map((b) => (b as { text: string }).text)
    .join('\n');
}

/**
 * The planner: one model call that returns a plan, parsed from the first JSON object
 * of the answer and checked (roles, dependencies, cycles, parameters) before it is
 * returned. Anything else is PLAN_INVALID naming what was wrong.
 */
export class Planner {
  constructor(private readonly opts: PlannerOptions) {}

  get model(): string {
    return this.opts.model;
  }

  async plan(req: PlanRequest): Promise<{ plan: Plan; raw: unknown }> {
    const response = await this.opts.models.complete(
      req.caller,
      this.opts.model,
      {
        system: plannerSystemPrompt(this.opts.catalog),
        messages: [{ role: 'user', content: userMessage(req) }],
        tools: [],
        max_tokens: this.opts.maxTokens ?? 4000,
        signal: req.signal,
      },
      {
        agent_id: req.caller.id,
        agent_name: req.caller.name,
        ...(req.caller.runId ? { run_id: req.caller.runId } : {}),
        workspace: req.run,
        data_dir: req.dataDir,
      },
    );
    const text = textOf(response);
    const block = firstJsonObject(text);
    if (block === undefined) {
      throw new AaosError(
        ErrorCode.PLAN_INVALID,
        `plan refused: the planner (${this.opts.model}) answered without a JSON object: ${text.slice(0, 200)}`,
        {
          problems: [{ field: '(plan)', message: 'no JSON object in the answer' }],
        },
      );
    }
    let raw: unknown;
    try {
      raw = JSON.parse(block);
    } catch (err) {
      throw new AaosError(
        ErrorCode.PLAN_INVALID,
        `plan refused: the planner's JSON does not parse: ${(err as Error).message}`,
        {
          problems: [{ field: '(plan)', message: (err as Error).message }],
        },
      );
    }
    return { plan: checkPlan(raw, this.opts.catalog, req.run), raw };
  }
}
