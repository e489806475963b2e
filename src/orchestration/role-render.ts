import path from 'node:path';
import { stringify } from 'yaml';
import { AaosError, ErrorCode } from '../errors/index.js';
import { parseManifest } from '../manifest/parse.js';
import type { AgentManifest } from '../manifest/schema.js';
import { closestMatch } from '../manifest/suggest.js';
import { PLAN_FILE } from './plan-view.js';
import type { Role } from './role.js';
import { capabilityPlaceholders, fillMessage, PATH_BUILTINS } from './template.js';

export type ParamValue = string | string[];

export interface RenderContext {
  /** the subtask the role is rendered for (named in errors) */
  subtaskId: string;
  /** the run's root directory: `{run}` in parameters and messages */
  run: string;
  /** index into the role's model ladder (capped at its top) */
  tier?: number;
}

export interface RenderedRole {
  manifest: AgentManifest;
  message: string;
  params: Record<string, ParamValue>;
  /** files the role declares it writes (`file_write: {param}`, no `/*`) */
  declaredOutputs: string[];
  model: string;
}

function paramsError(ctx: RenderContext, role: Role, field: string, message: string): AaosError {
  return new AaosError(
    ErrorCode.ROLE_PARAMS_INVALID,
    `subtask '${ctx.subtaskId}' (role ${role.name}): params.${field}: ${message}`,
    { subtask_id: ctx.subtaskId, role: role.name, field: `params.${field}`, file: role.file },
  );
}

function withRun(value: string, run: string): string {
  return value.replaceAll('{run}', run);
}

/**
 * Checks a subtask's parameters against its role (unknown, missing, wrong type,
 * path rules) and returns them with `{run}` substituted. Throws ROLE_PARAMS_INVALID
 * naming the subtask, the role and the field.
 */
export function checkRoleParams(
  role: Role,
  raw: Readonly<Record<string, unknown>>,
  ctx: RenderContext,
): Record<string, ParamValue> {
  const declared = Object.keys(role.parameters);
  for (const name of Object.keys(raw)) {
    if (!role.parameters[name]) {
      const hint = closestMatch(name, declared);
      throw paramsError(
        ctx,
        role,
        name,
        `unknown parameter${hint !== undefined ? ` (did you mean '${hint}'?)` : ` (role ${role.name} takes: ${declared.join(', ') || 'none'})`}`,
      );
    }
  }
  const out: Record<string, ParamValue> = {};
  for (const [name, spec] of Object.entries(role.parameters)) {
    const value = raw[name];
    if (value === undefined || value === null) {
      if (spec.required)
        throw paramsError(
          ctx,
          role,
          name,
          `missing required parameter (${spec.type}${spec.description ? `: ${spec.description}` : ''})`,
        );
      continue;
    }
    if (spec.type === 'string_list') {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
        throw paramsError(ctx, role, name, `expected a list of strings, got ${describe(value)}`);
      }
      out[name] = value.map((v) => withRun(v as string, ctx.run));
      continue;
    }
    if (typeof value !== 'string')
      throw paramsError(ctx, role, name, `expected a string (${spec.type}), got ${describe(value)}`);
    if (value.trim() === '') throw paramsError(ctx, role, name, 'must not be empty');
    const filled = withRun(value, ctx.run);
    if (spec.type === 'path') {
      if (!path.isAbsolute(filled))
        throw paramsError(ctx, role, name, `a path must be absolute (or start with {run}), got '${value}'`);
      if (/[*{}]/.test(filled))
        throw paramsError(ctx, role, name, `a path names one file or directory: no '*', '{' or '}', got '${value}'`);
      const resolved = path.resolve(filled);
      const record = path.join(ctx.run, PLAN_FILE);
      if (resolved === record || resolved.startsWith(`${record}.`))
        throw paramsError(ctx, role, name, `'${value}' is reserved for the plan's own record`);
      out[name] = resolved;
    } else out[name] = filled;
  }
  return out;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** One capability template expanded with the parameters; `{x.*}` yields one entry per element. */
function expandTemplate(
  role: Role,
  template: string,
  params: Record<string, ParamValue>,
  ctx: RenderContext,
): string[] {
  let results = [template];
  for (const ph of capabilityPlaceholders(template)) {
    const value = params[ph.name];
    if (value === undefined) {
      // {workspace}/{data_dir} without a parameter of that name: the manifest fills them at spawn
      if ((PATH_BUILTINS as readonly string[]).includes(ph.name)) continue;
      throw paramsError(ctx, role, ph.name, `capability '${template}' needs this parameter, and it was not given`);
    }
    const values = Array.isArray(value) ? value : [value];
    // a wildcard smuggled in through a parameter would widen the grant the role meant
    const bad = values.find((v) => v.includes('*'));
    if (bad !== undefined)
      throw paramsError(ctx, role, ph.name, `'${bad}' may not contain '*' (used in capability '${template}')`);
    results = results.flatMap((r) =>
      ph.each ? values.map((v) => r.replace(ph.text, v)) : [r.replace(ph.text, values[0]!)],
    );
  }
  return results;
}

/**
 * Renders a role into the manifest and first message of one subtask's child. The
 * manifest goes through the same parser as any manifest; the child is then spawned
 * and narrowed like every other child.
 */
export function renderRole(role: Role, rawParams: Readonly<Record<string, unknown>>, ctx: RenderContext): RenderedRole {
  const params = checkRoleParams(role, rawParams, ctx);
  const capabilities = role.capabilities.flatMap((t) => expandTemplate(role, t, params, ctx));
  const declaredOutputs: string[] = [];
  for (const template of role.capabilities) {
    const m = /^\s*file_write\s*:\s*\{([A-Za-z_][A-Za-z0-9_]*)\}\s*$/.exec(template);
    const value = m ? params[m[1]!] : undefined;
    if (typeof value === 'string') declaredOutputs.push(value);
  }
  const tier = Math.min(Math.max(ctx.tier ?? 0, 0), role.model_ladder.length - 1);
  const model = role.model_ladder[tier] ?? role.model;
  const doc: Record<string, unknown> = {
    name: role.name,
    model,
    system_prompt: role.system_prompt,
    capabilities,
    limits: { max_iterations: role.orchestration.max_iterations },
    metadata: { role: role.name, subtask_id: ctx.subtaskId, params },
  };
  if (role.budget) doc['budget_config'] = { max_tokens: role.budget.max_input_tokens + role.budget.max_output_tokens };
  const manifest = parseManifest(stringify(doc), {
    file: `${role.file} (role ${role.name}, subtask ${ctx.subtaskId})`,
    baseDir: role.base_dir,
  });
  const values: Record<string, string> = { run: ctx.run };
  for (const name of Object.keys(role.parameters)) {
    const v = params[name];
    values[name] = v === undefined ? '' : Array.isArray(v) ? v.join(', ') : v;
  }
  return { manifest, message: fillMessage(role.message_template, values), params, declaredOutputs, model };
}
