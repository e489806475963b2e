import { AaosError, ErrorCode } from '../errors/index.js';
import type { Skill } from './skill.js';

/** What activation needs of a skill. */
export type ActivatableSkill = Pick<Skill, 'name' | 'allowedTools'>;

export interface ActiveSkill {
  name: string;
  allowedTools: string[] | null;
}

export interface SkillActivationsOptions {
  /** called once per skill per run when it first becomes active (the supervisor emits SkillActivated) */
  onActivate?: (agentId: string, runId: string | undefined, skill: ActiveSkill) => void;
}

/** `skill_read` is always allowed, so an agent can read another skill or a skill's files. */
const ALWAYS_ALLOWED = 'skill_read';

function key(agentId: string, runId: string | undefined): string {
  // work outside any run (a daemon tool.invoke, say) shares one per-agent scope
  return `${agentId}\u0000${runId ?? ''}`;
}

function toolMatches(pattern: string, toolName: string): boolean {
  return pattern.endsWith('*') ? toolName.startsWith(pattern.slice(0, -1)) : pattern === toolName;
}

/**
 * Which skills are active for which agent run (see docs/skills.md). A skill becomes
 * active when the agent reads its instructions and stays so until the run ends. While
 * any active skill declares `allowed-tools`, tools outside their union are refused.
 * This only ever narrows: capabilities are still checked on top.
 */
export class SkillActivations {
  readonly #byRun = new Map<string, Map<string, ActiveSkill>>();
  readonly #onActivate: SkillActivationsOptions['onActivate'];

  constructor(options: SkillActivationsOptions = {}) {
    this.#onActivate = options.onActivate;
  }

  /** returns true when the skill was not already active for this run */
  activate(agentId: string, runId: string | undefined, skill: ActivatableSkill): boolean {
    const k = key(agentId, runId);
    let skills = this.#byRun.get(k);
    if (!skills) {
      skills = new Map();
      this.#byRun.set(k, skills);
    }
    if (skills.has(skill.name)) return false;
    const active: ActiveSkill = {
      name: skill.name,
      allowedTools: skill.allowedTools === null ? null : [...skill.allowedTools],
    };
    skills.set(skill.name, active);
    this.#onActivate?.(agentId, runId, active);
    return true;
  }

  endRun(agentId: string, runId: string | undefined): void {
    this.#byRun.delete(key(agentId, runId));
  }

  /** forgets every run of an agent (the agent stopped) */
  endAgent(agentId: string): void {
    const prefix = `${agentId}\u0000`;
    for (const k of [...this.#byRun.keys()]) if (k.startsWith(prefix)) this.#byRun.delete(k);
  }

  /** active skills of this run, in activation order */
  active(agentId: string, runId: string | undefined): ActiveSkill[] {
    return [...(this.#byRun.get(key(agentId, runId))?.values() ?? [])].map((s) => ({
      name: s.name,
      allowedTools: s.allowedTools === null ? null : [...s.allowedTools],
    }));
  }

  /** the union of allowed tools, or null when no active skill restricts tools */
  allowedTools(agentId: string, runId: string | undefined): string[] | null {
    const restricting = this.active(agentId, runId).filter((s) => s.allowedTools !== null);
    if (restricting.length === 0) return null;
    const union = new Set<string>([ALWAYS_ALLOWED]);
    for (const s of restricting) for (const tool of s.allowedTools ?? []) union.add(tool);
    return [...union].sort();
  }

  /** throws SKILL_TOOL_NOT_ALLOWED when an active skill's allowed-tools excludes the tool */
  check(agentId: string, runId: string | undefined, toolName: string): void {
    if (toolName === ALWAYS_ALLOWED) return;
    const restricting = this.active(agentId, runId).filter((s) => s.allowedTools !== null);
    if (restricting.length === 0) return;
    if (restricting.some((s) => (s.allowedTools ?? []).some((pattern) => toolMatches(pattern, toolName)))) return;
    const allowed = this.allowedTools(agentId, runId) ?? [];
    const names = restricting.map((s) => s.name);
    throw new AaosError(
      ErrorCode.SKILL_TOOL_NOT_ALLOWED,
      `tool '${toolName}' is not allowed while skill${names.length > 1 ? 's' : ''} ${names.map((n) => `'${n}'`).join(', ')} ${names.length > 1 ? 'are' : 'is'} active for this run; allowed tools: ${allowed.join(', ')}`,
      { tool: toolName, skills: names, allowed_tools: allowed },
    );
  }
}
