import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback server speaking the Anthropic Messages API (POST /v1/messages,
 * non-streaming). Tests queue replies; the server records every request it got.
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

export class FakeAnthropicServer {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: FakeReply[] = [];
  /** answered when the queue is empty; default: a 500 saying so */
  fallback: FakeReply | ((request: RecordedRequest) => FakeReply) | undefined;

  private constructor(private readonly server: Server, readonly baseUrl: string) {}

  static async start(): Promise<FakeAnthropicServer> {
    let self: FakeAnthropicServer | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => self?.handle(req.method ?? '', req.url ?? '', req.headers, Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    self = new FakeAnthropicServer(server, `http://127.0.0.1:${port}`);
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
    if (method !== 'POST' || path !== '/v1/messages') {
      send(res, anthropicError(404, 'not_found_error', `fake server: no route ${method} ${path}`));
      return;
    }
    const next = this.queue.shift();
    const fallback = typeof this.fallback === 'function' ? this.fallback(request) : this.fallback;
    const reply = next ?? fallback ?? anthropicError(500, 'api_error', 'fake server: no reply queued');
    if (reply.hang) return;
    if (reply.destroy) {
      res.socket?.destroy();
      return;
    }
    send(res, reply);
  }
}

function send(res: ServerResponse, reply: FakeReply): void {
  const text = JSON.stringify(reply.body ?? {});
  res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', 'request-id': 'req_fake', ...reply.headers });
  res.end(text);
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
  options: { stop_reason?: string; input_tokens?: number; output_tokens?: number; model?: string; usage?: Record<string, number> } = {},
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
export function anthropicError(status: number, type: string, message: string, headers: Record<string, string> = {}): FakeReply {
  return { status, headers, body: { type: 'error', error: { type, message } } };
}
