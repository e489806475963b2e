import { z } from 'zod';
import { defineTool, type Tool } from '../tool.js';

/** Spawn one child from manifest YAML, run it on a message, return its answer. The child is stopped afterwards. */
export function createSpawnAgentTool(): Tool {
  return defineTool({
    name: 'spawn_agent',
    description:
      'Spawn a child agent from a YAML manifest (name, model, system_prompt, capabilities — each capability must be one you hold), give it a task message, wait for its answer. The child is stopped when it answers.',
    input: z.object({
      manifest: z.string().min(1).describe('the child manifest as YAML text'),
      message: z.string().min(1).describe('the task for the child'),
    }),
    run: (input, ctx) => ctx.spawnAndRun(input.manifest, input.message),
  });
}
