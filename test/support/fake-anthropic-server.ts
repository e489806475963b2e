import type { Server } from 'node:http';
import { ScriptedHttpServer, type FakeReply, type ScriptedRoute } from './scripted-http-server.js';

export type { FakeReply };

/**
 * A loopback server speaking the Anthropic Messages API (POST /v1/messages,
 * non-streaming). Tests queue replies; the server records every request it got.
 */
export class FakeAnthropicServer extends ScriptedHttpServer {
  get baseUrl(): string {
    return this.origin;
  }

  static start(): Promise<FakeAnthropicServer> {
    const route: ScriptedRoute = {
      method: 'POST',
      path: '/v1/messages',
      notFound: (method, path) => anthropicError(404, 'not_found_error', `fake server: no route ${method} ${path}`),
      empty: () => anthropicError(500, 'api_error', 'fake server: no reply queued'),
      headers: { 'request-id': 'req_fake' },
    };
    return ScriptedHttpServer.listen(
      route,
      (server: Server, origin: string, r: ScriptedRoute) => new FakeAnthropicServer(server, origin, r),
    );
  }
}

export interface AnthropicBlock {
  type: 'text' | 'tool_use';
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
}

let messageCounter = 0;

/** A successful Messages API body. */
export function anthropicMessage(
  content: AnthropicBlock[],
  options: {
    stop_reason?: string;
    input_tokens?: number;
    output_tokens?: number;
    model?: string;
    usage?: Record<string, number>;
  } = {},
): FakeReply {
  return {
    status: 200,
    body: {
      id: `msg_fake_${++messageCounter}`,
      type: 'message',
      role: 'assistant',
      model: options.model ?? 'claude-test-1',
      content,
      stop_reason: options.stop_reason ?? (content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn'),
      stop_sequence: null,
      usage: options.usage ?? { input_tokens: options.input_tokens ?? 10, output_tokens: options.output_tokens ?? 5 },
    },
  };
}

export function anthropicText(text: string, usage: { input_tokens?: number; output_tokens?: number } = {}): FakeReply {
  return anthropicMessage([{ type: 'text', text }], usage);
}

/** An error body as the Messages API sends it. */
export function anthropicError(
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
): FakeReply {
  return { status, headers, body: { type: 'error', error: { type, message } } };
}
