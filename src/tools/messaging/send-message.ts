import { z } from 'zod';
import { defineTool, type Tool } from '../tool.js';
import type { Messenger } from './messenger.js';

/** Fire-and-forget message to another live agent (needs `message_send` for it). */
export function createSendMessageTool(messenger: Messenger): Tool {
  return defineTool({
    name: 'send_message',
    description:
      'Send a message to another running agent (by name or id) without waiting for an answer. Requires message_send for that agent.',
    input: z.object({ to: z.string().min(1), message: z.string().min(1) }),
    run: (input, ctx) => messenger.send(ctx.call, input.to, 'agent.run', { message: input.message }),
  });
}
