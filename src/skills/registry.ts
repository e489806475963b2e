import { AaosError, ErrorCode } from '../errors/index.js';
import { loadSkills, type SkillProblem } from './loader.js';
import type { Skill } from './skill.js';

/** The skills known to the supervisor, by name. Immutable once built. */
export class SkillRegistry {
  readonly #skills: ReadonlyMap<string, Skill>;
  /** folders skipped while loading, for `agentd` to report */
  readonly problems: readonly SkillProblem[];

  constructor(skills: readonly Skill[], problems: readonly SkillProblem[] = []) {
    const sorted = [...skills].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // later entries win, as with roots
    this.#skills = new Map(sorted.map((skill) => [skill.name, skill]));
    this.problems = problems;
  }

  static async load(roots?: readonly string[]): Promise<SkillRegistry> {
    const { skills, problems } = await loadSkills(roots);
    return new SkillRegistry(skills, problems);
  }

  get size(): number {
    return this.#skills.size;
  }

  /** sorted by name */
  list(): Skill[] {
    return [...this.#skills.values()];
  }

  names(): string[] {
    return [...this.#skills.keys()];
  }

  find(name: string): Skill | undefined {
    return this.#skills.get(name);
  }

  /** throws SKILL_NOT_FOUND listing the available names */
  get(name: string): Skill {
    const skill = this.#skills.get(name);
    if (skill) return skill;
    const available = this.names();
    throw new AaosError(
      ErrorCode.SKILL_NOT_FOUND,
      `no skill named '${name}'; available skills: ${available.length > 0 ? available.join(', ') : '(none)'}`,
      { skill: name, available },
    );
  }

  /**
   * The system-prompt section for agents holding `tool: skill_read`. Empty when there
   * are no skills, so the supervisor can append it unconditionally.
   */
  catalog(): string {
    if (this.#skills.size === 0) return '';
    const lines = this.list().map((skill) => `- ${skill.name}: ${skill.description.replace(/\s+/g, ' ')}`);
    return [
      '## Skills',
      'Skills are written procedures for recurring kinds of work. When a task matches one, call the `skill_read` tool with its `skill_name` before starting, and follow the instructions it returns. Reading a skill may restrict which tools you can use for the rest of this run.',
      '',
      ...lines,
    ].join('\n');
  }
}
