import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AaosError, ErrorCode } from '../../../src/errors/index.js';
import type { CapabilityRequest } from '../../../src/capability/capability.js';
import type { ToolContext } from '../../../src/tools/tool.js';
import { createWebFetchTool, type WebFetchResult } from '../../../src/tools/web/web-fetch.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function fakeContext(allowedHosts: string[], signal: AbortSignal = new AbortController().signal) {
  const checked: string[] = [];
  const ctx: ToolContext = {
    call: { id: 'agent-1', name: 'tester', runId: 'run-1', trace: { traceId: 'trace-1', spanId: 'span-1' } },
    workspace: undefined,
    dataDir: '/tmp',
    signal,
    authorize(request: CapabilityRequest) {
      if (request.kind !== 'network') throw new Error(`unexpected request ${request.kind}`);
      checked.push(request.host);
      if (!allowedHosts.includes(request.host)) {
        throw new AaosError(
          ErrorCode.CAPABILITY_DENIED,
          `capability denied: agent tester lacks network: ${request.host}`,
          { host: request.host },
        );
      }
    },
    spawnAndRun: () => Promise.reject(new Error('not used')),
  };
  return { ctx, checked };
}

const tool = createWebFetchTool();
const routes = new Map<string, Handler>();
let server: Server;
let port: number;
const pending: ServerResponse[] = [];

function route(path: string, handler: Handler): void {
  routes.set(path, handler);
}

async function fetchTool(input: Record<string, unknown>, ctx: ToolContext): Promise<WebFetchResult> {
  return (await tool.invoke(input, ctx)) as WebFetchResult;
}

async function rejection(promise: Promise<unknown>): Promise<AaosError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(AaosError);
    return err as AaosError;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const handler = routes.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (handler) handler(req, res);
    else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  // 127.0.0.1 and localhost reach the same server but are two distinct hosts for capabilities
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;

  route('/hello', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('hello, wörld');
  });
  route('/status-500', (_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('boom');
  });
  route('/to-localhost', (_req, res) => {
    res.writeHead(302, { location: `http://localhost:${port}/hello` });
    res.end();
  });
  route('/relative', (_req, res) => {
    res.writeHead(301, { location: '/hello' });
    res.end();
  });
  route('/to-ftp', (_req, res) => {
    res.writeHead(302, { location: 'ftp://127.0.0.1/file' });
    res.end();
  });
  route('/loop', (req, res) => {
    const n = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('n') ?? '0');
    res.writeHead(307, { location: `/loop?n=${n + 1}` });
    res.end();
  });
  route('/big', (_req, res) => {
    // chunked, no content-length: the cap must stop the read
    res.writeHead(200, { 'content-type': 'text/plain' });
    for (let i = 0; i < 100; i++) res.write('x'.repeat(1000));
    res.end();
  });
  route('/exact', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('abcde');
  });
  route('/utf8-split', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ab€cd'); // € is three bytes: a cap of 4 cuts it
  });
  route('/declared-huge', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(10_000_000) });
    res.write('partial');
    pending.push(res);
  });
  route('/binary', (_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png' });
    res.end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]));
  });
  route('/hang', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('started');
    pending.push(res);
  });
});

afterAll(async () => {
  for (const res of pending) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('web_fetch', () => {
  it('fetches a text body and reports status, type and size', async () => {
    const { ctx, checked } = fakeContext(['127.0.0.1']);
    const result = await fetchTool({ url: `http://127.0.0.1:${port}/hello` }, ctx);
    expect(result).toEqual({
      url: `http://127.0.0.1:${port}/hello`,
      final_url: `http://127.0.0.1:${port}/hello`,
      status: 200,
      content_type: 'text/plain; charset=utf-8',
      encoding: 'utf-8',
      body: 'hello, wörld',
      truncated: false,
      bytes_read: Buffer.byteLength('hello, wörld'),
    });
    expect(checked).toEqual(['127.0.0.1']);
  });

  it('returns non-2xx statuses as results, not errors', async () => {
    const { ctx } = fakeContext(['127.0.0.1']);
    const result = await fetchTool({ url: `http://127.0.0.1:${port}/status-500` }, ctx);
    expect(result.status).toBe(500);
    expect(result.body).toBe('boom');
  });

  it('refuses the first request when the host is not permitted', async () => {
    const { ctx } = fakeContext(['example.org']);
    const err = await rejection(fetchTool({ url: `http://127.0.0.1:${port}/hello` }, ctx));
    expect(err.code).toBe(ErrorCode.CAPABILITY_DENIED);
  });

  it('follows a redirect to another permitted host, checking each hop', async () => {
    const { ctx, checked } = fakeContext(['127.0.0.1', 'localhost']);
    const result = await fetchTool({ url: `http://127.0.0.1:${port}/to-localhost` }, ctx);
    expect(result.status).toBe(200);
    expect(result.body).toBe('hello, wörld');
    expect(result.final_url).toBe(`http://localhost:${port}/hello`);
    expect(checked).toEqual(['127.0.0.1', 'localhost']);
  });

  it('resolves relative redirect locations', async () => {
    const { ctx } = fakeContext(['127.0.0.1']);
    const result = await fetchTool({ url: `http://127.0.0.1:${port}/relative` }, ctx);
    expect(result.final_url).toBe(`http://127.0.0.1:${port}/hello`);
  });

  it('refuses a redirect to a host the agent may not reach, with the denial as the error', async () => {
    const { ctx, checked } = fakeContext(['127.0.0.1']);
    const err = await rejection(fetchTool({ url: `http://127.0.0.1:${port}/to-localhost` }, ctx));
    expect(err.code).toBe(ErrorCode.CAPABILITY_DENIED);
    expect(err.message).toContain('localhost');
    expect(checked).toEqual(['127.0.0.1', 'localhost']);
  });

  it('gives up after 5 redirects', async () => {
    const { ctx, checked } = fakeContext(['127.0.0.1']);
    const err = await rejection(fetchTool({ url: `http://127.0.0.1:${port}/loop` }, ctx));
    expect(err.code).toBe(ErrorCode.FETCH_FAILED);
    expect(err.message).toContain('too many redirects');
    expect(checked).toHaveLength(6);
  });

  it('refuses non-http schemes, for the URL and for redirect targets', async () => {
    const { ctx, checked } = fakeContext(['127.0.0.1']);
    for (const url of ['file:///etc/passwd', 'ftp://127.0.0.1/x', 'not a url']) {
      const err = await rejection(fetchTool({ url }, ctx));
      expect(err.code).toBe(ErrorCode.FETCH_FAILED);
    }
    expect(checked).toEqual([]);
    const err = await rejection(fetchTool({ url: `http://127.0.0.1:${port}/to-ftp` }, ctx));
    expect(err.code).toBe(ErrorCode.FETCH_FAILED);
    expect(err.message).toContain('ftp');
  });

  it('stops reading at max_bytes and says the body was truncated', async () => {
    const { ctx } = fakeContext(['127.0.0.1']);
    const result = await fetchTool({ url: `http://127.0.0.1:${port}/big`, max_bytes: 2500 }, ctx);
    expect(result.truncated).toBe(true);
    expect(result.bytes_read).toBe(2500);
    expect(result.body).toBe('x'.repeat(2500));
  });

  it('does not flag a body of exactly max_bytes as truncated', async () => {
    const { ctx } = fakeContext(['127.0.0.1']);
    const result = await fetchTool({ url: `http://127.0.0.1:${port}/exact`, max_bytes: 5 }, ctx);
    expect(result).toMatchObject({ body: 'abcde', truncated: false, bytes_read: 5 });
  });

  it('drops a multi-byte character cut by the cap instead of emitting garbage', async () => {
    const { ctx } = fakeContext(['127.0.0.1']);
    const result = await fetchTool({ url: `http://127.0.0.1:${port}/utf8-split`, max_bytes: 4 }, ctx);
    expect(result).toMatchObject({ body: 'ab', truncated: true, bytes_read: 4 });
  });

  it('rejects a declared Content-Length above 10× max_bytes before reading', async () => {
    const { ctx } = fakeContext(['127.0.0.1']);
    const err = await rejection(fetchTool({ url: `http://127.0.0.1:${port}/declared-huge`, max_bytes: 1000 }, ctx));
    expect(err.code).toBe(ErrorCode.FETCH_FAILED);
    expect(err.message).toContain('10000000');
  });

  it('returns binary content as base64', async () => {
    const { ctx } = fakeContext(['127.0.0.1']);
    const result = await fetchTool({ url: `http://127.0.0.1:${port}/binary` }, ctx);
    expect(result.encoding).toBe('base64');
    expect(Buffer.from(result.body, 'base64')).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]));
  });

  it('times out with FETCH_TIMEOUT', async () => {
    const { ctx } = fakeContext(['127.0.0.1']);
    const err = await rejection(fetchTool({ url: `http://127.0.0.1:${port}/hang`, timeout_ms: 50 }, ctx));
    expect(err.code).toBe(ErrorCode.FETCH_TIMEOUT);
    expect(err.message).toContain('timeout_ms');
  });

  it('stops when the call is cancelled', async () => {
    const controller = new AbortController();
    const { ctx } = fakeContext(['127.0.0.1'], controller.signal);
    const call = fetchTool({ url: `http://127.0.0.1:${port}/hang`, timeout_ms: 60_000 }, ctx);
    setImmediate(() => controller.abort());
    const err = await rejection(call);
    expect(err.code).toBe(ErrorCode.CANCELLED);
  });

  it('reports a refused connection as FETCH_FAILED', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { ctx } = fakeContext(['127.0.0.1']);
    const err = await rejection(fetchTool({ url: `http://127.0.0.1:${deadPort}/` }, ctx));
    expect(err.code).toBe(ErrorCode.FETCH_FAILED);
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('validates max_bytes against the 5 MiB ceiling', async () => {
    const { ctx } = fakeContext(['127.0.0.1']);
    const err = await rejection(fetchTool({ url: `http://127.0.0.1:${port}/hello`, max_bytes: 6 * 1024 * 1024 }, ctx));
    expect(err.code).toBe(ErrorCode.TOOL_INPUT_INVALID);
  });
});
