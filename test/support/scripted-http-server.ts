import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One queued answer of a scripted server. */
export interface FakeReply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** never answer (until the server closes) — for client timeouts */
  hang?: boolean;
  /** drop the connection without an answer */
  destroy?: boolean;
  /** send this text verbatim as the body instead of JSON-encoding `body` (HTML, broken JSON) */
  raw?: string;
  /** send the status, the headers and `raw` (if any), then never another byte — a stalled body */
  stallBody?: boolean;
  /** announce `body`'s full length, send only its first `cutAfter` bytes, then drop the connection */
  cutAfter?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** the parsed JSON body (its shape is the provider's wire format, checked by each test) */
  // biome-ignore lint/suspicious/noExplicitAny: tests index into provider-specific request bodies
  body: any;
  /** Date.now() when the request was read */
  receivedAt: number;
}

export interface ScriptedRoute {
  method: string;
  path: string;
  /** the answer to any other route */
  notFound(method: string, path: string): FakeReply;
  /** the answer when nothing is queued and no fallback is set */
  empty(): FakeReply;
  /** headers every answer carries (e.g. a request id) */
  headers: Record<string, string>;
}

/**
 * A loopback HTTP server for provider tests: one JSON route, answers taken from a queue
 * (or a fallback), every request recorded. The Anthropic and OpenAI fakes are this plus
 * their route and error shapes.
 */
export class ScriptedHttpServer {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: FakeReply[] = [];
  /** answered when the queue is empty */
  fallback: FakeReply | ((request: RecordedRequest) => FakeReply) | undefined;

  protected constructor(
    private readonly server: Server,
    readonly origin: string,
    private readonly route: ScriptedRoute,
  ) {}

  protected static async listen<T extends ScriptedHttpServer>(
    route: ScriptedRoute,
    make: (server: Server, origin: string, route: ScriptedRoute) => T,
  ): Promise<T> {
    let self: T | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () =>
        self?.handle(req.method ?? '', req.url ?? '', req.headers, Buffer.concat(chunks).toString('utf8'), res),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    self = make(server, `http://127.0.0.1:${port}`, route);
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
    if (method !== this.route.method || path !== this.route.path) {
      this.send(res, this.route.notFound(method, path));
      return;
    }
    const next = this.queue.shift();
    const fallback = typeof this.fallback === 'function' ? this.fallback(request) : this.fallback;
    const reply = next ?? fallback ?? this.route.empty();
    if (reply.hang) return;
    if (reply.destroy) {
      res.socket?.destroy();
      return;
    }
    this.send(res, reply);
  }

  private send(res: ServerResponse, reply: FakeReply): void {
    const text = reply.raw ?? JSON.stringify(reply.body ?? {});
    const headers = { 'content-type': 'application/json', ...this.route.headers, ...reply.headers };
    if (reply.stallBody) {
      res.writeHead(reply.status ?? 200, headers);
      if (reply.raw !== undefined) res.write(reply.raw);
      else res.flushHeaders();
      return;
    }
    if (reply.cutAfter !== undefined) {
      const bytes = Buffer.from(text);
      res.writeHead(reply.status ?? 200, { ...headers, 'content-length': String(bytes.byteLength) });
      res.write(bytes.subarray(0, reply.cutAfter), () => res.socket?.destroy());
      return;
    }
    res.writeHead(reply.status ?? 200, headers);
    res.end(text);
  }
}
