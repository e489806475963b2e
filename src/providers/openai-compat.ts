import { OpenAI } from 'openai';
import { Console } from 'node:console';
import { badResponse, callProviderJson, DEFAULT_PROVIDER_TIMEOUTS, type ProviderTimeouts } from './provider-call.js';
import type { ProviderCallInfo } from './provider-errors.js';
import { estimateInputTokens, estimateOutputTokens } from './token-estimate.js';
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

type WireMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;
type WireTool = OpenAI.Chat.Completions.ChatCompletionFunctionTool;
type WireRequest = OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;
type WireResponse = OpenAI.Chat.Completions.ChatCompletion;

/** Which Chat Completions dialect: they differ in the max-tokens field and in context windows. */
export type OpenAICompatFlavor = 'openai' | 'deepseek' | 'ollama';

export interface OpenAICompatProviderOptions {
  /** scheduler/audit id; also selects the dialect */
  id: OpenAICompatFlavor;
  /** local servers need none; the SDK insists on a string, so a placeholder is sent */
  apiKey?: string;
  /** including the version path, e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1 */
  baseURL: string;
  /** env var named in auth errors */
  keyEnv?: string;
  /** total and idle-body limits of one call (default 10 minutes and 2 minutes) */
  timeouts?: ProviderTimeouts;
}

/** Tool results that failed are marked in the text itself: `role: tool` has no error flag. */
export const TOOL_ERROR_PREFIX = 'ERROR (the tool call failed): ';

function toolArguments(block: Extract<ContentBlock, { type: 'tool_use' }>): string {
  // arguments the model sent unparsed go back verbatim, so it sees its own mistake
  if (block.input_error !== undefined && typeof block.input === 'string') return block.input;
  return JSON.stringify(block.input ?? {});
}

/** Neutral messages → Chat Completions messages; the system prompt becomes the first message. */
function toChatMessages(system: string, messages: Message[]): WireMessage[] {
  const out: WireMessage[] = [];
  if (system !== '') out.push({ role: 'system', content: system });
  for (const message of messages) {
    if (message.role === 'user') {
      out.push({ role: 'user', content: message.content });
    } else if (message.role === 'tool_result') {
      out.push({
        role: 'tool',
        tool_call_id: message.tool_use_id,
        content: message.is_error ? `${TOOL_ERROR_PREFIX}${message.content}` : message.content,
      });
    } else {
      const text = message.content
        .filter((b): b is Extract<ContentBlock, { type: 'text' }> => b.type === 'text')
        .map((b) => b.text)
        .join('\n');
      const calls = message.content.filter(
        (b): b is Extract<ContentBlock, { type: 'tool_use' }> => b.type === 'tool_use',
      );
      const wire: OpenAI.Chat.Completions.ChatCompletionAssistantMessageParam = {
        role: 'assistant',
        content: text === '' ? null : text,
      };
      if (calls.length > 0) {
        wire.tool_calls = calls.map((call) => ({
          id: call.id,
          type: 'function',
          function: { name: call.name, arguments: toolArguments(call) },
        }));
      }
      out.push(wire);
    }
  }
  return out;
}

function toChatTools(tools: ToolDefinition[]): WireTool[] {
  return tools.map((tool) => ({
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.input_schema },
  }));
}

function outputCap(flavor: OpenAICompatFlavor, model: string, requested: number): number {
  if (flavor !== 'deepseek') return requested;
  return Math.min(requested, model.includes('reasoner') ? 32_768 : 8_192);
}

/** The exact request body sent for a neutral request (exported for tests and debugging). */
function toChatRequest(flavor: OpenAICompatFlavor, request: ModelRequest): WireRequest {
  const body: WireRequest = { model: request.model, messages: toChatMessages(request.system, request.messages) };
  // OpenAI's reasoning models refuse `max_tokens`; DeepSeek and local servers only know `max_tokens`
  if (flavor === 'openai') body.max_completion_tokens = request.max_tokens;
  else body.max_tokens = outputCap(flavor, request.model, request.max_tokens);
  if (request.tools.length > 0) body.tools = toChatTools(request.tools);
  return body;
}

function mapFinishReason(reason: string | null | undefined, hasToolCalls: boolean): ModelStopReason {
  if (reason === 'length') return 'max_tokens';
  // some servers say "stop" while returning tool calls; the calls are what matters
  if (hasToolCalls || reason === 'tool_calls' || reason === 'function_call') return 'tool_use';
  if (reason === 'content_filter') return 'stop_sequence';
  return 'end_turn';
}

function parseArguments(raw: string): { input: unknown; error?: string } {
  if (raw.trim() === '') return { input: {} };
  try {
    return { input: JSON.parse(raw) as unknown };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { input: raw, error: `the tool arguments were not valid JSON (${reason}); send a JSON object` };
  }
}

/**
 * The least a Chat Completions body must be to be an answer: an object with a non-empty
 * `choices` whose first entry has a `message` carrying text, tool calls, or a finish reason
 * that explains their absence. Anything else (HTML, `choices: []`, an error object with 200)
 * is MODEL_BAD_RESPONSE rather than an empty answer.
 */
function checkChatCompletion(json: unknown, text: string, info: ProviderCallInfo): WireResponse {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return reject(info, 'the body is not a JSON object', text);
  const choices = (json as Record<string, unknown>)['choices'];
  if (!Array.isArray(choices)) return reject(info, "it has no 'choices' array", text);
  if (choices.length === 0) return reject(info, "'choices' is empty", text);
  const first: unknown = choices[0];
  const message =
    typeof first === 'object' && first !== null ? (first as Record<string, unknown>)['message'] : undefined;
  if (typeof message !== 'object' || message === null) return reject(info, "choices[0] has no 'message' object", text);
  const { content, tool_calls: calls } = message as Record<string, unknown>;
  if (content !== undefined && content !== null && typeof content !== 'string')
    return reject(info, 'choices[0].message.content is neither text nor null', text);
  if (calls !== undefined && calls !== null && !Array.isArray(calls))
    return reject(info, 'choices[0].message.tool_calls is not an array', text);
  const finish = (first as Record<string, unknown>)['finish_reason'];
  const said = (typeof content === 'string' && content !== '') || (Array.isArray(calls) && calls.length > 0);
  if (!said && finish !== 'length' && finish !== 'content_filter')
    return reject(info, 'choices[0].message has neither text nor tool calls', text);
  return json as WireResponse;
}

function reject(info: ProviderCallInfo, why: string, text: string): never {
  throw badResponse(info, why, text);
}

/** Chat Completions response → neutral response. Missing usage (some local servers) is estimated. */
function fromChatResponse(response: WireResponse, request: ModelRequest): ModelResponse {
  const choice = response.choices?.[0];
  const message = choice?.message;
  const content: ContentBlock[] = [];
  if (message && typeof message.content === 'string' && message.content !== '')
    content.push({ type: 'text', text: message.content });
  let index = 0;
  for (const call of message?.tool_calls ?? []) {
    index += 1;
    if (call.type !== 'function') continue;
    const parsed = parseArguments(call.function.arguments ?? '');
    const block: ContentBlock = {
      type: 'tool_use',
      id: call.id || `call_${index}`,
      name: call.function.name ?? '',
      input: parsed.input,
    };
    if (parsed.error !== undefined) block.input_error = parsed.error;
    content.push(block);
  }
  const hasToolCalls = content.some((b) => b.type === 'tool_use');
  const usage = response.usage
    ? { input_tokens: response.usage.prompt_tokens ?? 0, output_tokens: response.usage.completion_tokens ?? 0 }
    : { input_tokens: estimateInputTokens(request), output_tokens: estimateOutputTokens(content) };
  return {
    content,
    stop_reason: mapFinishReason(choice?.finish_reason, hasToolCalls),
    usage,
    model: response.model || request.model,
  };
}

/** Context windows by model family; unknown OpenAI models get 128k, local models a conservative 32k. */
export function openAICompatContextTokens(flavor: OpenAICompatFlavor, model: string): number {
  if (flavor === 'deepseek') return 128_000;
  if (flavor === 'ollama') return 32_768;
  if (model.startsWith('gpt-4.1')) return 1_047_576;
  if (model.startsWith('gpt-5')) return 400_000;
  if (/^o\d/.test(model)) return 200_000;
  if (model.startsWith('gpt-3.5')) return 16_385;
  if (model === 'gpt-4' || model.startsWith('gpt-4-0')) return 8_192;
  return 128_000;
}

const SDK_LOGGER = new Console(process.stderr);

export class OpenAICompatProvider implements ModelProvider {
  readonly id: OpenAICompatFlavor;
  private readonly baseUrl: string;
  private readonly client: OpenAI;
  private readonly keyEnv: string | undefined;
  private readonly timeouts: ProviderTimeouts;

  constructor(options: OpenAICompatProviderOptions) {
    this.id = options.id;
    this.baseUrl = options.baseURL;
    this.keyEnv = options.keyEnv;
    this.timeouts = options.timeouts ?? DEFAULT_PROVIDER_TIMEOUTS;
    this.client = new OpenAI({
      apiKey: options.apiKey ?? 'no-key',
      baseURL: options.baseURL,
      // retries belong to the gateway (shared backoff, audit)
      maxRetries: 0,
      // SDK notices (e.g. deprecated models) must never land on stdout, which may carry NDJSON audit
      logger: SDK_LOGGER,
      // bounds the wait for headers only: the SDK clears it once they arrive; the body is bounded in callProviderJson
      timeout: this.timeouts.totalMs,
    });
  }

  async complete(request: ModelRequest, _context: ScriptContext): Promise<ModelResponse> {
    const info: ProviderCallInfo = {
      provider: this.id,
      model: request.model,
      baseUrl: this.baseUrl,
      ...(request.signal ? { signal: request.signal } : {}),
      ...(this.keyEnv ? { keyEnv: this.keyEnv } : {}),
    };
    const body = toChatRequest(this.id, request);
    const { json, text } = await callProviderJson(
      (signal) => this.client.chat.completions.create(body, { signal }).asResponse(),
      info,
      this.timeouts,
    );
    return fromChatResponse(checkChatCompletion(json, text, info), request);
  }

  maxContextTokens(model: string): number {
    return openAICompatContextTokens(this.id, model);
  }
}
