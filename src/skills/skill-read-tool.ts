import { z } from 'zod';
import { defineTool, type Tool } from '../tools/tool.js';
import type { SkillActivations } from './activations.js';
import type { SkillRegistry } from './registry.js';
import { listSkillFiles, readSkillFile } from './skill-files.js';

const SkillReadInput = z.object({
  skill_name: z.string().min(1).describe('name of the skill, as listed in the Skills section of the system prompt'),
  file: z
    .string()
    .min(1)
    .optional()
    .describe(
      "a file inside the skill folder, relative to it (e.g. 'references/checklist.md'); omit to read the skill's instructions",
    ),
});

/**
 * `skill_read`: without `file`, returns the skill's instructions and activates the skill
 * for the caller's current run (which may restrict its tools); with `file`, returns
 * one of the skill's files without activating anything.
 */
export function createSkillReadTool(registry: SkillRegistry, activations: SkillActivations): Tool {
  return defineTool({
    name: 'skill_read',
    idempotent: true,
    description:
      "Read a skill: without `file`, returns its instructions, the tools it allows, and the files it bundles; with `file`, returns that file's content. Follow a skill's instructions once read.",
    input: SkillReadInput,
    async run(input, ctx) {
      const skill = registry.get(input.skill_name);
      if (input.file !== undefined) {
        const { content, encoding } = await readSkillFile(skill, input.file);
        return { skill: skill.name, file: input.file, content, ...(encoding === 'base64' ? { encoding } : {}) };
      }
      const { files, truncated } = await listSkillFiles(skill);
      activations.activate(ctx.call.id, ctx.call.runId, skill);
      return {
        skill: skill.name,
        instructions: skill.body,
        allowed_tools: skill.allowedTools,
        files,
        ...(truncated ? { files_truncated: true } : {}),
      };
    },
  });
}
