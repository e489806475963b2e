import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/index.js';
import { SkillRegistry } from '../../src/skills/registry.js';
import type { Skill } from '../../src/skills/skill.js';

function skill(name: string, description: string): Skill {
  return {
    name,
    description,
    license: undefined,
    compatibility: undefined,
    metadata: {},
    allowedTools: null,
    body: '',
    dir: `/s/${name}`,
    root: '/s',
  };
}

describe('SkillRegistry', () => {
  it('builds a catalog sorted by name that points to skill_read', () => {
    const registry = new SkillRegistry([skill('b-skill', 'Second.'), skill('a-skill', 'First,\nwrapped.')]);
    const catalog = registry.catalog();
    expect(catalog).toContain('`skill_read`');
    expect(catalog.split('\n').filter((l) => l.startsWith('- '))).toEqual([
      '- a-skill: First, wrapped.',
      '- b-skill: Second.',
    ]);
  });

  it('has an empty catalog without skills', () => {
    expect(new SkillRegistry([]).catalog()).toBe('');
  });

  it('names the available skills when one is unknown', () => {
    const registry = new SkillRegistry([skill('a-skill', 'x'), skill('b-skill', 'y')]);
    expect(() => registry.get('c-skill')).toThrow(
      expect.objectContaining({
        code: ErrorCode.SKILL_NOT_FOUND,
        message: "no skill named 'c-skill'; available skills: a-skill, b-skill",
      }),
    );
    expect(registry.find('c-skill')).toBeUndefined();
  });
});
