import { Anthropic } from '@anthropic-ai/sdk';
import { Console } from 'node:console';
import { badResponse, callProviderJson, DEFAULT_PROVIDER_TIMEOUTS, type ProviderTimeouts } from './provider-call.js';
import type { ProviderCallInfo } from './provider-errors.js';
import type {
  ContentBlock,
  Message,
  ModelProvider,
  ModelRequest,
  ModelResponse,
  ModelStopReason,
  ScriptContext,
  ToolDefinition,
} from './model.js';

type WireMessage = Anthropic.MessageParam;
type WireUserBlock = Anthropic.TextBlockParam | Anthropic.ToolResultBlockParam;
type WireAssistantBlock = Anthropic.TextBlockParam | Anthropic.ToolUseBlockParam;

export interface AnthropicProviderOptions {
  apiKey: string;
  /** e.g. http://127.0.0.1:8080 (the SDK adds /v1/messages); default https://api.anthropic.com */
  baseURL?: string;
  /** total and idle-body limits of one call (default 10 minutes and 2 minutes) */
  timeouts?: ProviderTimeouts;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Appends user content, merging into the previous turn when it is also the user's (the API wants alternation). */
function pushUser(out: WireMessage[], blocks: WireUserBlock[]): void {
  const last = out[out.length - 1];
  if (last && last.role === 'user') {
    const existing: WireUserBlock[] =
      typeof last.content === 'string' ? [{ type: 'text', text: last.content }] : (last.content as WireUserBlock[]);
    last.content = [...existing, ...blocks];
    return;
  }
  out.push({ role: 'user', content: blocks.length === 1 && blocks[0]?.type === 'text' ? blocks[0].text : blocks });
}

function assistantBlocks(content: ContentBlock[]): WireAssistantBlock[] {
  const blocks: WireAssistantBlock[] = [];
  for (const block of content) {
    if (block.type === 'text') {
      // the API rejects empty text blocks
      if (block.text !== '') blocks.push({ type: 'text', text: block.text });
    } else {
      blocks.push({
        type: 'tool_use',
        id: block.id,
        name: block.name,
        input: isPlainObject(block.input) ? block.input : {},
      });
    }
  }
  return blocks;
}

/** Neutral messages → Messages API turns: consecutive tool results become one user turn of tool_result blocks. */
export function toAnthropicMessages(messages: Message[]): WireMessage[] {
  const out: WireMessage[] = [];
  for (const message of messages) {
    if (message.role === 'user') {
      pushUser(out, [{ type: 'text', text: message.content }]);
    } else if (message.role === 'tool_result') {
      pushUser(out, [
        { type: 'tool_result', tool_use_id: message.tool_use_id, content: message.content, is_error: message.is_error },
      ]);
    } else {
      const blocks = assistantBlocks(message.content);
      if (blocks.length > 0) out.push({ role: 'assistant', content: blocks });
    }
  }
  return out;
}

function toAnthropicTools(tools: ToolDefinition[]): Anthropic.Tool[] {
  return tools.map((tool) => ({
    name: tool.name,
    description: tool.description,
    input_schema: { type: 'object', ...tool.input_schema } as Anthropic.Tool.InputSchema,
  }));
}

/** The exact request body sent for a neutral request (exported for tests and debugging). */
function toAnthropicRequest(request: ModelRequest): Anthropic.MessageCreateParamsNonStreaming {
  const body: Anthropic.MessageCreateParamsNonStreaming = {
    model: request.model,
    max_tokens: request.max_tokens,
    messages: toAnthropicMessages(request.messages),
  };
  if (request.system !== '') body.system = request.system;
  if (request.tools.length > 0) body.tools = toAnthropicTools(request.tools);
  return body;
}

function mapStopReason(reason: string | null | undefined, hasToolUse: boolean): ModelStopReason {
  switch (reason) {
    case 'tool_use':
      return 'tool_use';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'max_tokens';
    case 'stop_sequence':
      return 'stop_sequence';
    default:
      // end_turn, pause_turn, refusal, null
      return hasToolUse ? 'tool_use' : 'end_turn';
  }
}

/**
 * The least a Messages API body must be to be an answer: an object with `type: "message"`
 * and a `content` array of objects. Anything else is MODEL_BAD_RESPONSE. (An empty
 * `content` is a real answer of this API: the model had nothing to add.)
 */
function checkAnthropicMessage(json: unknown, text: string, info: ProviderCallInfo): Anthropic.Message {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw badResponse(info, 'the body is not a JSON object', text);
  const record = json as Record<string, unknown>;
  if (record['type'] !== 'message')
    throw badResponse(info, `'type' is ${JSON.stringify(record['type'] ?? null)}, not "message"`, text);
  const content = record['content'];
  if (!Array.isArray(content)) throw badResponse(info, "it has no 'content' array", text);
  if (content.some((block) => typeof block !== 'object' || block === null))
    throw badResponse(info, "'content' holds something that is not a block object", text);
  return json as Anthropic.Message;
}

/** Messages API response → neutral response. Block types other than text and tool_use are dropped. */
export function fromAnthropicResponse(message: Anthropic.Message, requestedModel: string): ModelResponse {
  const content: ContentBlock[] = [];
  for (const block of message.content ?? []) {
    if (block.type === 'text') content.push({ type: 'text', text: block.text });
    else if (block.type === 'tool_use')
      content.push({ type: 'tool_use', id: block.id, name: block.name, input: block.input });
  }
  const usage = message.usage;
  // cached prompt tokens are still input the budget must count
  const input =
    (usage?.input_tokens ?? 0) + (usage?.cache_creation_input_tokens ?? 0) + (usage?.cache_read_input_tokens ?? 0);
  return {
    content,
    stop_reason: mapStopReason(
      message.stop_reason,
      content.some((b) => b.type === 'tool_use'),
    ),
    usage: { input_tokens: input, output_tokens: usage?.output_tokens ?? 0 },
    model: message.model || requestedModel,
  };
}

/** Context windows: every current Claude model has 200k tokens. */
export function anthropicContextTokens(_model: string): number {
  return 200_000;
}

const SDK_LOGGER = new Console(process.stderr);

export class AnthropicProvider implements ModelProvider {
  readonly id = 'anthropic';
  private readonly client: Anthropic;
  private readonly timeouts: ProviderTimeouts;
  private readonly baseUrl: string;

  constructor(options: AnthropicProviderOptions) {
    this.timeouts = options.timeouts ?? DEFAULT_PROVIDER_TIMEOUTS;
    this.baseUrl = options.baseURL ?? 'https://api.anthropic.com';
    this.client = new Anthropic({
      apiKey: options.apiKey,
      baseURL: this.baseUrl,
      // retries belong to the gateway (shared backoff, audit); never let the SDK retry behind our back
      maxRetries: 0,
      // SDK notices (e.g. deprecated models) must never land on stdout, which may carry NDJSON audit
      logger: SDK_LOGGER,
      // bounds the wait for headers only; the body is bounded in callProviderJson
      timeout: this.timeouts.totalMs,
    });
  }

  async complete(request: ModelRequest, _context: ScriptContext): Promise<ModelResponse> {
    const info: ProviderCallInfo = {
      provider: this.id,
      model: request.model,
      keyEnv: 'ANTHROPIC_API_KEY',
      baseUrl: this.baseUrl,
      ...(request.signal ? { signal: request.signal } : {}),
    };
    const body = toAnthropicRequest(request);
    const { json, text } = await callProviderJson(
      (signal) => this.client.messages.create(body, { signal }).asResponse(),
      info,
      this.timeouts,
    );
    return fromAnthropicResponse(checkAnthropicMessage(json, text, info), request.model);
  }

  maxContextTokens(model: string): number {
    return anthropicContextTokens(model);
  }
}
