import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback server speaking OpenAI Chat Completions (POST /v1/chat/completions,
 * non-streaming), as OpenAI, DeepSeek and local servers do. Tests queue replies;
 * the server records every request it got.
 */
export interface FakeReply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** never answer (until the server closes) — for client timeouts */
  hang?: boolean;
  /** drop the connection without an answer */
  destroy?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
  /** Date.now() when the request was read */
  receivedAt: number;
}

export class FakeOpenAIServer {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: FakeReply[] = [];
  /** answered when the queue is empty; default: a 500 saying so */
  fallback: FakeReply | ((request: RecordedRequest) => FakeReply) | undefined;

  private constructor(private readonly server: Server, readonly origin: string) {}

  /** base URL including /v1, as OPENAI_BASE_URL / OLLAMA_BASE_URL expect */
  get baseUrl(): string {
    return `${this.origin}/v1`;
  }

  static async start(): Promise<FakeOpenAIServer> {
    let self: FakeOpenAIServer | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => self?.handle(req.method ?? '', req.url ?? '', req.headers, Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    self = new FakeOpenAIServer(server, `http://127.0.0.1:${port}`);
    return self;
  }

  reply(...replies: FakeReply[]): this {
    this.queue.push(...replies);
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(method: string, path: string, headers: IncomingHttpHeaders, raw: string, res: ServerResponse): void {
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      // keep the raw text; the test will see it
    }
    const request: RecordedRequest = { method, path, headers, body, receivedAt: Date.now() };
    this.requests.push(request);
    if (method !== 'POST' || path !== '/v1/chat/completions') {
      send(res, openAIError(404, 'invalid_request_error', `fake server: no route ${method} ${path}`));
      return;
    }
    const next = this.queue.shift();
    const fallback = typeof this.fallback === 'function' ? this.fallback(request) : this.fallback;
    const reply = next ?? fallback ?? openAIError(500, 'server_error', 'fake server: no reply queued');
    if (reply.hang) return;
    if (reply.destroy) {
      res.socket?.destroy();
      return;
    }
    send(res, reply);
  }
}

function send(res: ServerResponse, reply: FakeReply): void {
  res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', 'x-request-id': 'req_fake', ...reply.headers });
  res.end(JSON.stringify(reply.body ?? {}));
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
    message['tool_calls'] = options.tool_calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
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
        finish_reason: options.finish_reason === undefined ? (options.tool_calls ? 'tool_calls' : 'stop') : options.finish_reason,
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
export function openAIError(status: number, type: string, message: string, headers: Record<string, string> = {}, code: string | null = null): FakeReply {
  return { status, headers, body: { error: { message, type, param: null, code } } };
}
