import type { Server } from 'node:http';
import { ScriptedHttpServer, type FakeReply, type ScriptedRoute } from './scripted-http-server.js';

export type { FakeReply };

/**
 * A loopback server speaking OpenAI Chat Completions (POST /v1/chat/completions,
 * non-streaming), as OpenAI, DeepSeek and local servers do. Tests queue replies;
 * the server records every request it got.
 */
export class FakeOpenAIServer extends ScriptedHttpServer {
  /** base URL including /v1, as OPENAI_BASE_URL / OLLAMA_BASE_URL expect */
  get baseUrl(): string {
    return `${this.origin}/v1`;
  }

  static start(): Promise<FakeOpenAIServer> {
    const route: ScriptedRoute = {
      method: 'POST',
      path: '/v1/chat/completions',
      notFound: (method, path) => openAIError(404, 'invalid_request_error', `fake server: no route ${method} ${path}`),
      empty: () => openAIError(500, 'server_error', 'fake server: no reply queued'),
      headers: { 'x-request-id': 'req_fake' },
    };
    return ScriptedHttpServer.listen(
      route,
      (server: Server, origin: string, r: ScriptedRoute) => new FakeOpenAIServer(server, origin, r),
    );
  }
}

export interface FakeToolCall {
  id: string;
  name: string;
  /** sent verbatim: the model's JSON string (or broken text) */
  arguments: string;
}

let completionCounter = 0;

/** A successful Chat Completions body. `usage: null` leaves usage out (some local servers). */
export function chatCompletion(options: {
  content?: string | null;
  tool_calls?: FakeToolCall[];
  finish_reason?: string | null;
  prompt_tokens?: number;
  completion_tokens?: number;
  usage?: null;
  model?: string;
}): FakeReply {
  const message: Record<string, unknown> = { role: 'assistant', content: options.content ?? null, refusal: null };
  if (options.tool_calls) {
    message['tool_calls'] = options.tool_calls.map((c) => ({
      id: c.id,
      type: 'function',
      function: { name: c.name, arguments: c.arguments },
    }));
  }
  const body: Record<string, unknown> = {
    id: `chatcmpl-fake-${++completionCounter}`,
    object: 'chat.completion',
    created: 1_700_000_000,
    model: options.model ?? 'gpt-test',
    choices: [
      {
        index: 0,
        message,
        finish_reason:
          options.finish_reason === undefined ? (options.tool_calls ? 'tool_calls' : 'stop') : options.finish_reason,
        logprobs: null,
      },
    ],
  };
  if (options.usage !== null) {
    const prompt = options.prompt_tokens ?? 10;
    const completion = options.completion_tokens ?? 5;
    body['usage'] = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  }
  return { status: 200, body };
}

/** An error body as OpenAI-compatible servers send it. */
export function openAIError(
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
  code: string | null = null,
): FakeReply {
  return { status, headers, body: { error: { message, type, param: null, code } } };
}
