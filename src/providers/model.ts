import { z } from 'zod';

/**
 * Provider-neutral conversation model. Providers translate to and from their wire
 * formats; the agent loop, the session store and the context manager only see these.
 */
const TextBlock = z.object({ type: z.literal('text'), text: z.string() });

export const ToolUseBlock = z.object({
  type: z.literal('tool_use'),
  id: z.string(),
  name: z.string(),
  input: z.unknown(),
  /**
   * Set by a provider when the model's tool arguments could not be parsed (then `input`
   * holds the raw text). The agent loop should answer with an error tool_result carrying
   * this message instead of running the tool; a tool that validates `input` fails anyway.
   */
  input_error: z.string().optional(),
});
export type ToolUseBlock = z.infer<typeof ToolUseBlock>;

export const ContentBlock = z.discriminatedUnion('type', [TextBlock, ToolUseBlock]);
export type ContentBlock = z.infer<typeof ContentBlock>;

export const Message = z.discriminatedUnion('role', [
  z.object({ role: z.literal('user'), content: z.string() }),
  z.object({ role: z.literal('assistant'), content: z.array(ContentBlock) }),
  z.object({
    role: z.literal('tool_result'),
    tool_use_id: z.string(),
    /** text given back to the model (JSON-stringified for structured results) */
    content: z.string(),
    is_error: z.boolean(),
  }),
]);
export type Message = z.infer<typeof Message>;

export interface ToolDefinition {
  name: string;
  description: string;
  /** JSON Schema (draft 2020-12 subset) of the tool's input object */
  input_schema: Record<string, unknown>;
}

export type ModelStopReason = 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence';

export interface Usage {
  input_tokens: number;
  output_tokens: number;
}

export interface ModelRequest {
  /** model id as the provider knows it (routing prefix already stripped) */
  model: string;
  system: string;
  messages: Message[];
  tools: ToolDefinition[];
  max_tokens: number;
  /** runtime metadata, not sent to the provider */
  agent_id: string;
  signal?: AbortSignal;
}

export interface ModelResponse {
  content: ContentBlock[];
  stop_reason: ModelStopReason;
  usage: Usage;
  model: string;
}

/** Per-agent facts the scripted model may substitute into its turns. */
export interface ScriptContext {
  agent_id: string;
  agent_name: string;
  run_id?: string;
  workspace?: string;
  data_dir?: string;
  /** the agent manifest's `metadata` (`{metadata:a.b}` in a script); a plan subtask's role parameters live in `params` */
  metadata?: Record<string, unknown>;
}

export interface ModelProvider {
  /** stable id used by the scheduler to share limits, e.g. `anthropic`, `openai`, `scripted` */
  readonly id: string;
  complete(request: ModelRequest, context: ScriptContext): Promise<ModelResponse>;
  /** the model's own context window in tokens */
  maxContextTokens(model: string): number;
}
