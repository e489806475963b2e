import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/index.js';
import { parseSkillMarkdown } from '../../src/skills/skill.js';

function parseError(text: string): { code: string; message: string } {
  try {
    parseSkillMarkdown(text, '/skills/x/SKILL.md');
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected a parse error');
}

describe('parseSkillMarkdown', () => {
  it('parses a minimal skill', () => {
    const { frontmatter, body } = parseSkillMarkdown(
      '---\nname: tidy-up\ndescription: Tidy things.\n---\n\n# Tidy\n\nSteps.\n',
      'f',
    );
    expect(frontmatter).toEqual({ name: 'tidy-up', description: 'Tidy things.' });
    expect(body).toBe('# Tidy\n\nSteps.');
  });

  it('parses every optional field; allowed-tools as a string or a list', () => {
    const text = [
      '---',
      'name: all-fields',
      'description: >',
      '  Folded description',
      '  over two lines.',
      'license: MIT',
      'compatibility: aaos 0.1',
      'metadata:',
      '  author: me',
      '  version: "1.0"',
      'allowed-tools: file_read  file_list mcp.github.*',
      '---',
      'Body',
    ].join('\n');
    const { frontmatter } = parseSkillMarkdown(text, 'f');
    expect(frontmatter).toEqual({
      name: 'all-fields',
      description: 'Folded description over two lines.',
      license: 'MIT',
      compatibility: 'aaos 0.1',
      metadata: { author: 'me', version: '1.0' },
      'allowed-tools': ['file_read', 'file_list', 'mcp.github.*'],
    });
    const list = parseSkillMarkdown(
      '---\nname: a\ndescription: d\nallowed-tools:\n  - web_fetch\n  - echo\n---\n',
      'f',
    );
    expect(list.frontmatter['allowed-tools']).toEqual(['web_fetch', 'echo']);
    expect(list.body).toBe('');
  });

  it('rejects a file without frontmatter or without its closing line', () => {
    expect(parseError('# Just markdown\n')).toMatchObject({
      code: ErrorCode.SKILL_INVALID,
      message: expect.stringContaining('must start with a --- line'),
    });
    expect(parseError('---\nname: a\ndescription: b\n')).toMatchObject({
      message: expect.stringContaining('no closing ---'),
    });
  });

  it('rejects missing or malformed required fields, naming the field', () => {
    expect(parseError('---\ndescription: d\n---\n').message).toContain('name: is required');
    expect(parseError('---\nname: a\n---\n').message).toContain('description: is required');
    expect(parseError('---\nname: Not_Valid\ndescription: d\n---\n').message).toContain('name:');
    expect(parseError(`---\nname: ${'a'.repeat(65)}\ndescription: d\n---\n`).message).toContain('64');
    expect(parseError(`---\nname: a\ndescription: ${'d'.repeat(1025)}\n---\n`).message).toContain('1024');
    expect(parseError('---\nname: a\ndescription: d\nmetadata:\n  n: 1\n---\n').message).toContain('metadata.n');
  });

  it('rejects unknown keys so typos surface', () => {
    expect(parseError('---\nname: a\ndescription: d\nallowed_tools: x\n---\n').message).toContain(
      'unknown frontmatter key(s): allowed_tools',
    );
  });

  it('rejects an empty or malformed allowed-tools', () => {
    expect(parseError("---\nname: a\ndescription: d\nallowed-tools: ''\n---\n").message).toContain('allowed-tools');
    expect(parseError('---\nname: a\ndescription: d\nallowed-tools: Bash(git:*)\n---\n').message).toContain(
      'allowed-tools',
    );
  });

  it('reports YAML errors with the line in SKILL.md', () => {
    const err = parseError('---\nname: a\ndescription: [unclosed\n---\n');
    expect(err.code).toBe(ErrorCode.SKILL_INVALID);
    expect(err.message).toMatch(/invalid YAML frontmatter at line \d+/);
  });
});
