import { z } from 'zod';
import { toPlainError } from '../../errors/index.js';
import { defineTool, type Tool } from '../tool.js';
import { PriorFindings } from './prior-findings.js';
import { childMessage } from './spawn-agent.js';

/** Spawn several children in parallel; one child's failure is reported in its slot and never aborts its siblings. */
export function createSpawnAgentsTool(fileRead: Tool, maxBatch = 16): Tool {
  return defineTool({
    name: 'spawn_agents',
    description: `Spawn up to ${maxBatch} child agents in parallel, each from a YAML manifest with its own task message; returns every child's answer (or its error) in input order.`,
    input: z.object({
      children: z
        .array(
          z.object({
            manifest: z.string().min(1),
            message: z.string().min(1),
            prior_findings: PriorFindings.optional(),
          }),
        )
        .min(1)
        .max(maxBatch),
    }),
    async run(input, ctx) {
      const settled = await Promise.allSettled(
        input.children.map(async (c) =>
          ctx.spawnAndRun(c.manifest, await childMessage(c.message, c.prior_findings, ctx, fileRead)),
        ),
      );
      const children = settled.map((s, index) =>
        s.status === 'fulfilled' ? { index, ...s.value } : { index, error: toPlainError(s.reason) },
      );
      return {
        count: children.length,
        failed: children.filter((c) => 'error' in c && c.error !== null).length,
        children,
      };
    },
  });
}
