import { z } from 'zod';
import { defineTool, type Tool } from '../tool.js';
import { PriorFindings, priorFindingsText, withPriorFindings } from './prior-findings.js';

/** The child's first message: the task, then any prior findings between tagged delimiters. */
export async function childMessage(
  message: string,
  findings: PriorFindings | undefined,
  ctx: Parameters<Tool['invoke']>[1],
  fileRead: Tool,
): Promise<string> {
  if (findings === undefined) return message;
  return withPriorFindings(message, await priorFindingsText(findings, ctx, fileRead), ctx.call.name);
}

/**
 * Spawn one child from manifest YAML, run it on a message, return its answer. The child is
 * stopped afterwards; one that ended in error is run again once (AAOS_SPAWN_RETRIES).
 */
export function createSpawnAgentTool(fileRead: Tool): Tool {
  return defineTool({
    name: 'spawn_agent',
    description:
      'Spawn a child agent from a YAML manifest (name, model, system_prompt, capabilities — each capability must be one you hold), give it a task message, wait for its answer. The child is stopped when it answers. prior_findings hands it earlier results (text, or {paths} of files you may read).',
    input: z.object({
      manifest: z.string().min(1).describe('the child manifest as YAML text'),
      message: z.string().min(1).describe('the task for the child'),
      prior_findings: PriorFindings.optional(),
    }),
    run: async (input, ctx) =>
      ctx.spawnAndRun(input.manifest, await childMessage(input.message, input.prior_findings, ctx, fileRead)),
  });
}
