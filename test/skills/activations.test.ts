import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/index.js';
import { SkillActivations, type ActiveSkill } from '../../src/skills/activations.js';

const reviewing = { name: 'reviewing', allowedTools: ['file_read', 'grep'] };
const fetching = { name: 'fetching', allowedTools: ['web_fetch', 'mcp.docs.*'] };
const advice = { name: 'advice', allowedTools: null };

function denial(fn: () => void): { code: string; message: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (err) {
    return err as { code: string; message: string; details: Record<string, unknown> };
  }
  throw new Error('expected a refusal');
}

describe('SkillActivations', () => {
  it('allows everything while no restricting skill is active', () => {
    const a = new SkillActivations();
    expect(() => a.check('ag', 'r', 'file_write')).not.toThrow();
    a.activate('ag', 'r', advice);
    expect(() => a.check('ag', 'r', 'file_write')).not.toThrow();
    expect(a.allowedTools('ag', 'r')).toBeNull();
  });

  it('refuses tools outside allowed-tools, naming the skill and the list; skill_read always passes', () => {
    const a = new SkillActivations();
    a.activate('ag', 'r', reviewing);
    a.activate('ag', 'r', advice);
    const err = denial(() => a.check('ag', 'r', 'file_write'));
    expect(err.code).toBe(ErrorCode.SKILL_TOOL_NOT_ALLOWED);
    expect(err.message).toBe(
      "tool 'file_write' is not allowed while skill 'reviewing' is active for this run; allowed tools: file_read, grep, skill_read",
    );
    expect(err.details).toEqual({
      tool: 'file_write',
      skills: ['reviewing'],
      allowed_tools: ['file_read', 'grep', 'skill_read'],
    });
    expect(() => a.check('ag', 'r', 'grep')).not.toThrow();
    expect(() => a.check('ag', 'r', 'skill_read')).not.toThrow();
  });

  it('uses the union of all active restricting skills, with prefix patterns', () => {
    const a = new SkillActivations();
    a.activate('ag', 'r', reviewing);
    a.activate('ag', 'r', fetching);
    expect(() => a.check('ag', 'r', 'web_fetch')).not.toThrow();
    expect(() => a.check('ag', 'r', 'file_read')).not.toThrow();
    expect(() => a.check('ag', 'r', 'mcp.docs.search')).not.toThrow();
    expect(denial(() => a.check('ag', 'r', 'mcp.other.search')).message).toContain(
      "skills 'reviewing', 'fetching' are active",
    );
  });

  it('scopes activation to one agent run and clears it when the run ends', () => {
    const a = new SkillActivations();
    a.activate('ag', 'r1', reviewing);
    expect(() => a.check('ag', 'r2', 'file_write')).not.toThrow();
    expect(() => a.check('other', 'r1', 'file_write')).not.toThrow();
    a.endRun('ag', 'r1');
    expect(a.active('ag', 'r1')).toEqual([]);
    expect(() => a.check('ag', 'r1', 'file_write')).not.toThrow();
  });

  it('handles work outside a run and forgets a stopped agent', () => {
    const a = new SkillActivations();
    a.activate('ag', undefined, reviewing);
    a.activate('ag', 'r1', reviewing);
    expect(() => a.check('ag', undefined, 'file_write')).toThrow();
    a.endAgent('ag');
    expect(a.active('ag', undefined)).toEqual([]);
    expect(a.active('ag', 'r1')).toEqual([]);
  });

  it('reports each first activation once, for the SkillActivated audit event', () => {
    const seen: Array<[string, string | undefined, ActiveSkill]> = [];
    const a = new SkillActivations({ onActivate: (agentId, runId, skill) => seen.push([agentId, runId, skill]) });
    expect(a.activate('ag', 'r', reviewing)).toBe(true);
    expect(a.activate('ag', 'r', reviewing)).toBe(false);
    expect(seen).toEqual([['ag', 'r', { name: 'reviewing', allowedTools: ['file_read', 'grep'] }]]);
  });
});
