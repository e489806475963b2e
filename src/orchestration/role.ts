import { z } from 'zod';
import { AgentName, SystemPromptInput } from '../manifest/schema.js';

/**
 * A role: a parameterised manifest template the planner picks from. The field names
 * and `{param}` / `{param.*}` placeholders are aaOS's role format, accepted as written.
 */

const RoleParamType = z.enum(['string', 'path', 'string_list']);

export const RoleParameter = z.strictObject({
  type: RoleParamType,
  required: z.boolean().default(false),
  description: z.string().default(''),
});
export type RoleParameter = z.infer<typeof RoleParameter>;

const RoleBudget = z.strictObject({
  max_input_tokens: z.int().positive(),
  max_output_tokens: z.int().positive(),
});

const RoleRetry = z.strictObject({
  /** attempts in all, the first included (1 = no retry) */
  max_attempts: z.int().min(1).max(100).default(1),
  /** failure kinds worth another attempt; empty = any kind */
  on: z.array(z.string().min(1)).default([]),
});

export const EscalationSignal = z.enum(['replan_retry', 'tool_repeat_guard', 'max_tokens']);
export type EscalationSignal = z.infer<typeof EscalationSignal>;

const RoleOrchestration = z.strictObject({
  max_iterations: z.int().min(1).max(1000).default(50),
  /** aaOS's "commit nudges"; accepted, not acted on (see docs/orchestration.md) */
  commit_nudges: z.int().min(0).default(0),
});

const RoleScaffold = z.strictObject({ kind: z.string().min(1) });

/** Parameter names: the placeholder syntax `{name}` / `{name.*}` needs a plain identifier. */
const ROLE_PARAM_PATTERN = /^[a-z_][a-z0-9_]*$/;

/** The role document as written. */
export const RoleInput = z
  .strictObject({
    name: AgentName,
    model: z.string().trim().min(1),
    model_ladder: z.array(z.string().trim().min(1)).min(1).optional(),
    parameters: z
      .record(
        z.string().regex(ROLE_PARAM_PATTERN, { error: 'a parameter name is lower-case letters, digits and _' }),
        RoleParameter,
      )
      .default({}),
    capabilities: z.array(z.string().min(1)).default([]),
    system_prompt: SystemPromptInput.default(''),
    message_template: z.string().min(1),
    budget: RoleBudget.optional(),
    retry: RoleRetry.prefault({}),
    priority: z.int().min(0).max(255).default(128),
    escalate_on: z.array(EscalationSignal).default(['replan_retry', 'tool_repeat_guard', 'max_tokens']),
    scaffold: RoleScaffold.optional(),
    orchestration: RoleOrchestration.prefault({}),
    require_declared_output: z.boolean().default(false),
  })
  .refine((r) => r.model_ladder === undefined || r.model_ladder[0] === r.model, {
    message: "model_ladder[0] must be the role's model",
    path: ['model_ladder', 0],
  });
export type RoleInput = z.infer<typeof RoleInput>;

/** Known keys per mapping, for "did you mean" on unknown fields. */
export const ROLE_KNOWN_FIELDS: Readonly<Record<string, readonly string[]>> = {
  '': [
    'name',
    'model',
    'model_ladder',
    'parameters',
    'capabilities',
    'system_prompt',
    'message_template',
    'budget',
    'retry',
    'priority',
    'escalate_on',
    'scaffold',
    'orchestration',
    'require_declared_output',
  ],
  budget: Object.keys(RoleBudget.shape),
  retry: Object.keys(RoleRetry.shape),
  orchestration: Object.keys(RoleOrchestration.shape),
  scaffold: ['kind'],
  system_prompt: ['file'],
};

/** A loaded role: the input with its prompt read, models resolved and where it came from. */
export interface Role extends Omit<RoleInput, 'system_prompt' | 'model_ladder'> {
  system_prompt: string;
  /** the escalation ladder; `[model]` when the role declares none */
  model_ladder: string[];
  /** the file it was read from, and the directory its relative paths resolve against */
  file: string;
  base_dir: string;
}
