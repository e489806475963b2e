import { z } from 'zod';
import { defineTool, type Tool } from '../tool.js';
import type { Messenger } from './messenger.js';

/** Request/reply to another live agent: its answer, or a timeout error. */
export function createAskAgentTool(messenger: Messenger): Tool {
  return defineTool({
    name: 'ask_agent',
    description:
      'Ask another running agent (by name or id) a question and wait for its answer. Requires message_send for that agent.',
    input: z.object({
      to: z.string().min(1),
      message: z.string().min(1),
      timeout_ms: z.number().int().min(100).max(600_000).default(120_000),
    }),
    run: (input, ctx) =>
      messenger.request(ctx.call, input.to, 'agent.run', { message: input.message }, input.timeout_ms),
  });
}
