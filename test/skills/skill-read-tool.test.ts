import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/index.js';
import { SkillActivations } from '../../src/skills/activations.js';
import { SkillRegistry } from '../../src/skills/registry.js';
import { createSkillReadTool } from '../../src/skills/skill-read-tool.js';
import type { Tool } from '../../src/tools/tool.js';
import { skillMd, tempRoot, toolContext, writeTree } from './helpers.js';

let root: string;
let outside: string;
let registry: SkillRegistry;

beforeAll(async () => {
  root = await tempRoot();
  outside = await tempRoot('aaos-outside-');
  await writeTree(outside, { 'secret.txt': 'secret', 'dir/inner.md': 'inner' });
  await writeTree(root, {
    'guided/SKILL.md': skillMd('guided', 'allowed-tools: file_read file_list\n', '# Guided\n\nStep one.'),
    'guided/references/GUIDE.md': 'the guide',
    'guided/references/deep/more.md': 'deeper',
    'guided/scripts/run.sh': '#!/bin/sh\necho hi\n',
    'guided/notes.md': 'not listed but readable',
    'free/SKILL.md': skillMd('free'),
    'secret.txt': 'root-level, outside every skill',
  });
  await mkdir(join(root, 'guided/assets'));
  await writeFile(join(root, 'guided/assets/logo.bin'), Buffer.from([0xff, 0xfe, 0x00, 0x01]));
  await symlink(join(outside, 'secret.txt'), join(root, 'guided/references/link.md'));
  await symlink(join(outside, 'dir'), join(root, 'guided/linked-dir'));
  await mkdir(join(root, 'guided/references/empty'));
  registry = await SkillRegistry.load([root]);
  expect(registry.problems).toEqual([]);
});

function setup(): { tool: Tool; activations: SkillActivations } {
  const activations = new SkillActivations();
  return { tool: createSkillReadTool(registry, activations), activations };
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected a failure');
}

describe('skill_read', () => {
  it('returns instructions, allowed tools and the files under scripts/ references/ assets/', async () => {
    const { tool } = setup();
    await expect(tool.invoke({ skill_name: 'guided' }, toolContext())).resolves.toEqual({
      skill: 'guided',
      instructions: '# Guided\n\nStep one.',
      allowed_tools: ['file_read', 'file_list'],
      // folder order scripts, references, assets; sorted within each
      files: ['scripts/run.sh', 'references/GUIDE.md', 'references/deep/more.md', 'assets/logo.bin'],
    });
  });

  it('reads a file of the skill, text as text and binary as base64', async () => {
    const { tool } = setup();
    await expect(tool.invoke({ skill_name: 'guided', file: 'references/GUIDE.md' }, toolContext())).resolves.toEqual({
      skill: 'guided',
      file: 'references/GUIDE.md',
      content: 'the guide',
    });
    await expect(
      tool.invoke({ skill_name: 'guided', file: './references/deep/more.md' }, toolContext()),
    ).resolves.toMatchObject({ content: 'deeper' });
    await expect(tool.invoke({ skill_name: 'guided', file: 'assets/logo.bin' }, toolContext())).resolves.toMatchObject({
      content: Buffer.from([0xff, 0xfe, 0x00, 0x01]).toString('base64'),
      encoding: 'base64',
    });
  });

  it('refuses .. traversal and absolute paths', async () => {
    const { tool } = setup();
    for (const file of ['../secret.txt', '../../etc/passwd', 'references/../../secret.txt', 'references/../SKILL.md']) {
      const err = await failure(tool.invoke({ skill_name: 'guided', file }, toolContext()));
      expect(err.code, file).toBe(ErrorCode.SKILL_INVALID);
      expect(err.message).toContain("'..' components are not allowed");
    }
    const abs = await failure(
      tool.invoke({ skill_name: 'guided', file: join(root, 'guided/references/GUIDE.md') }, toolContext()),
    );
    expect(abs).toMatchObject({
      code: ErrorCode.SKILL_INVALID,
      message: expect.stringContaining('absolute paths are not allowed'),
    });
  });

  it('refuses a symlink in any component', async () => {
    const { tool } = setup();
    const file = await failure(tool.invoke({ skill_name: 'guided', file: 'references/link.md' }, toolContext()));
    expect(file).toMatchObject({
      code: ErrorCode.SKILL_INVALID,
      message: expect.stringContaining("'references/link.md' is a symbolic link"),
    });
    const dir = await failure(tool.invoke({ skill_name: 'guided', file: 'linked-dir/inner.md' }, toolContext()));
    expect(dir).toMatchObject({
      code: ErrorCode.SKILL_INVALID,
      message: expect.stringContaining("'linked-dir' is a symbolic link"),
    });
  });

  it('does not list symlinks among the files', async () => {
    const { tool } = setup();
    const result = (await tool.invoke({ skill_name: 'guided' }, toolContext())) as { files: string[] };
    expect(result.files).not.toContain('references/link.md');
  });

  it('names the skill files when a file does not exist or is a directory', async () => {
    const { tool } = setup();
    const missing = await failure(tool.invoke({ skill_name: 'guided', file: 'references/nope.md' }, toolContext()));
    expect(missing).toMatchObject({
      code: ErrorCode.SKILL_NOT_FOUND,
      message: expect.stringContaining('references/GUIDE.md'),
    });
    const dir = await failure(tool.invoke({ skill_name: 'guided', file: 'references/empty' }, toolContext()));
    expect(dir).toMatchObject({
      code: ErrorCode.SKILL_NOT_FOUND,
      message: expect.stringContaining('not a regular file'),
    });
  });

  it('lists the available skills for an unknown one', async () => {
    const { tool } = setup();
    const err = await failure(tool.invoke({ skill_name: 'nope' }, toolContext()));
    expect(err).toMatchObject({
      code: ErrorCode.SKILL_NOT_FOUND,
      message: "no skill named 'nope'; available skills: free, guided",
    });
  });

  it('activates the skill for the run when its instructions are read, not when a file is', async () => {
    const { tool, activations } = setup();
    const ctx = toolContext('agent-1', 'run-1');
    await tool.invoke({ skill_name: 'guided', file: 'references/GUIDE.md' }, ctx);
    expect(activations.active('agent-1', 'run-1')).toEqual([]);
    await tool.invoke({ skill_name: 'guided' }, ctx);
    expect(activations.active('agent-1', 'run-1')).toEqual([
      { name: 'guided', allowedTools: ['file_read', 'file_list'] },
    ]);
    expect(() => activations.check('agent-1', 'run-1', 'web_fetch')).toThrow(
      expect.objectContaining({ code: ErrorCode.SKILL_TOOL_NOT_ALLOWED }),
    );
    expect(() => activations.check('agent-1', 'run-1', 'file_read')).not.toThrow();
    // another run of the same agent is unaffected
    expect(() => activations.check('agent-1', 'run-2', 'web_fetch')).not.toThrow();
  });
});
