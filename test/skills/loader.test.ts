import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config/built-path.js';
import { loadSkills, skillRoots } from '../../src/skills/loader.js';
import { SkillRegistry } from '../../src/skills/registry.js';
import { skillMd, tempRoot, writeTree } from './helpers.js';

describe('loadSkills', () => {
  it('loads valid skills sorted by name and reports malformed ones without stopping', async () => {
    const root = await tempRoot();
    await writeTree(root, {
      'zeta/SKILL.md': skillMd('zeta', 'allowed-tools: file_read\n'),
      'alpha/SKILL.md': skillMd('alpha'),
      'alpha/references/guide.md': 'guide',
      'broken-yaml/SKILL.md': '---\nname: broken-yaml\ndescription: [oops\n---\n',
      'wrong-name/SKILL.md': skillMd('other-name'),
      'no-skill-md/README.md': 'not a skill',
      '.hidden/SKILL.md': skillMd('hidden'),
      'node_modules/SKILL.md': skillMd('node-modules'),
      'loose-file.md': 'ignored',
    });
    const { skills, problems } = await loadSkills([root]);
    expect(skills.map((s) => s.name)).toEqual(['alpha', 'zeta']);
    expect(skills[1]).toMatchObject({ allowedTools: ['file_read'], body: '# zeta\n\nDo the thing.', metadata: {} });
    expect(skills[0]?.allowedTools).toBeNull();
    expect(problems.map((p) => p.path).sort()).toEqual(
      [join(root, 'broken-yaml', 'SKILL.md'), join(root, 'no-skill-md'), join(root, 'wrong-name', 'SKILL.md')].sort(),
    );
    expect(problems.find((p) => p.path.includes('broken-yaml'))?.reason).toContain('invalid YAML');
    expect(problems.find((p) => p.path.includes('no-skill-md'))?.reason).toBe('no SKILL.md in this folder');
    expect(problems.find((p) => p.path.includes('wrong-name'))?.reason).toContain(
      "does not match the folder name 'wrong-name'",
    );
  });

  it('lets a later root override an earlier one by name', async () => {
    const first = await tempRoot();
    const second = await tempRoot();
    await writeTree(first, {
      'shared/SKILL.md': skillMd('shared', '', 'first'),
      'only-first/SKILL.md': skillMd('only-first'),
    });
    await writeTree(second, { 'shared/SKILL.md': skillMd('shared', '', 'second') });
    const { skills } = await loadSkills([first, second]);
    expect(skills.map((s) => [s.name, s.body])).toEqual([
      ['only-first', '# only-first\n\nDo the thing.'],
      ['shared', 'second'],
    ]);
  });

  it('never follows a symlinked skill folder or SKILL.md', async () => {
    const outside = await tempRoot('aaos-outside-');
    await writeTree(outside, { 'escape/SKILL.md': skillMd('escape'), 'file.md': skillMd('linked-md') });
    const root = await tempRoot();
    await symlink(join(outside, 'escape'), join(root, 'escape'));
    await mkdir(join(root, 'linked-md'));
    await symlink(join(outside, 'file.md'), join(root, 'linked-md', 'SKILL.md'));
    const { skills, problems } = await loadSkills([root]);
    expect(skills).toEqual([]);
    expect(problems.map((p) => p.reason).sort()).toEqual([
      'SKILL.md is a symbolic link; not followed',
      'skill folder is a symbolic link; not followed',
    ]);
  });

  it('reports a missing root and goes on', async () => {
    const root = await tempRoot();
    await writeTree(root, { 'ok/SKILL.md': skillMd('ok') });
    const { skills, problems } = await loadSkills(['/nonexistent/aaos-skills', root]);
    expect(skills.map((s) => s.name)).toEqual(['ok']);
    expect(problems).toEqual([{ path: '/nonexistent/aaos-skills', reason: 'skills root does not exist' }]);
  });

  it('takes roots from the bundled folder, then AAOS_SKILLS_DIR', () => {
    expect(skillRoots({})).toEqual([join(PROJECT_ROOT, 'skills')]);
    expect(skillRoots({ AAOS_SKILLS_DIR: '/a::/b' })).toEqual([join(PROJECT_ROOT, 'skills'), '/a', '/b']);
  });

  it('accepts a file written with CRLF line endings', async () => {
    const root = await tempRoot();
    await mkdir(join(root, 'crlf'));
    await writeFile(join(root, 'crlf', 'SKILL.md'), '---\r\nname: crlf\r\ndescription: d\r\n---\r\nbody\r\n');
    const { skills } = await loadSkills([root]);
    expect(skills[0]?.body).toBe('body');
  });
});

describe('bundled skills', () => {
  it('all load cleanly and follow the house format', async () => {
    const registry = await SkillRegistry.load([join(PROJECT_ROOT, 'skills')]);
    expect(registry.problems).toEqual([]);
    expect(registry.names()).toEqual([
      'debugging-failures',
      'handling-denied-capabilities',
      'planning-multi-agent-tasks',
      'researching-the-web',
      'reviewing-code',
      'summarizing-files',
      'using-episodic-memory',
      'writing-reports-from-sources',
    ]);
    for (const skill of registry.list()) {
      const lines = skill.body.split('\n').length;
      expect(lines, skill.name).toBeGreaterThanOrEqual(40);
      expect(lines, skill.name).toBeLessThanOrEqual(120);
      expect(skill.body, skill.name).toContain('## When to use');
      expect(skill.body, skill.name).toContain('## When not to use');
    }
    expect(registry.list().filter((s) => s.allowedTools !== null).length).toBeGreaterThanOrEqual(2);
  });
});
