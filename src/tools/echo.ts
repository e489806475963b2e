import { z } from 'zod';
import { defineTool, type Tool } from './tool.js';

export const EchoInput = z.object({ message: z.string().describe('text to send back') });
export type EchoInput = z.infer<typeof EchoInput>;

/** Returns its input: the smallest tool, for wiring checks and demos. */
export function createEchoTool(): Tool {
  return defineTool({
    name: 'echo',
    idempotent: true,
    description: 'Return the given message unchanged.',
    input: EchoInput,
    run: async (input) => ({ message: input.message }),
  });
}
