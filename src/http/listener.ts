import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { AaosError, ErrorCode, toPlainError } from '../errors/index.js';
import { tokenMatches } from './token.js';

/** One mounted handler; `prefix` matches the path itself and everything below it. */
export interface HttpRoute {
  prefix: string;
  handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;
  /** served without the token (e.g. the one-time console login) */
  public?: boolean;
}

export interface HttpListenerOptions {
  host: string;
  port: number;
  token: string;
  routes: HttpRoute[];
  /** listen on a non-loopback address too (the operator asked for it explicitly) */
  allowNonLoopback?: boolean;
}

export interface HttpListener {
  /** `http://host:port`, the listener's own origin */
  url: string;
  close(): Promise<void>;
}

export const TOKEN_COOKIE = 'aaos_token';

/** `127.0.0.1:8080`, `[::1]:8080`, `localhost:0` → host and port; CONFIG_INVALID names what is wrong. */
export function parseHttpAddress(text: string, source = '--http'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new AaosError(
      ErrorCode.CONFIG_INVALID,
      `${source} ${JSON.stringify(text)} is not HOST:PORT (e.g. 127.0.0.1:8080, [::1]:8080; port 0 picks a free one)`,
      {
        field: source,
        value: text,
      },
    );
  }
  return { host: (m[1] ?? m[2])!, port };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** The `aaos_token` cookie of a request, if any. */
function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === TOKEN_COOKIE) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

function bearerToken(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

const STATUS: Partial<Record<string, number>> = {
  [ErrorCode.HTTP_UNAUTHORIZED]: 401,
  [ErrorCode.HTTP_FORBIDDEN]: 403,
  [ErrorCode.HTTP_NOT_FOUND]: 404,
  [ErrorCode.HTTP_BAD_REQUEST]: 400,
  [ErrorCode.INTERNAL]: 500,
};

/** Errors go out as `{error: {code, message}}`; the status follows the code (400 for request errors). */
function sendError(res: ServerResponse, err: unknown): void {
  const plain = toPlainError(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, STATUS[plain.code] ?? 400, { error: { code: plain.code, message: plain.message } });
}

/**
 * The daemon's one HTTP listener (console, `/metrics`, MCP's `/mcp`). Every request is
 * checked here before a route sees it: the Host header must name this listener (DNS
 * rebinding), an Origin header must be this listener's own origin (cross-site requests),
 * and non-public routes need the token as a bearer header or the `aaos_token` cookie.
 */
export async function startHttpListener(opts: HttpListenerOptions): Promise<HttpListener> {
  if (!opts.allowNonLoopback && !isLoopback(opts.host)) {
    throw new AaosError(
      ErrorCode.CONFIG_INVALID,
      `the HTTP listener serves loopback addresses only (127.0.0.1, ::1, localhost), not ${opts.host}`,
      {
        field: 'host',
        value: opts.host,
      },
    );
  }
  // longest prefix first, so `/api/events` wins over `/api` and `/` is the fallback
  const routes = [...opts.routes].sort((a, b) => b.prefix.length - a.prefix.length);
  const origins = new Set<string>();
  const hosts = new Set<string>();

  const server = createServer((req, res) => {
    void serve(req, res).catch((err: unknown) => sendError(res, err));
  });
  server.headersTimeout = 15_000;
  server.requestTimeout = 60_000;

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = (req.headers.host ?? '').toLowerCase();
    if (!hosts.has(host))
      throw new AaosError(
        ErrorCode.HTTP_FORBIDDEN,
        `Host ${JSON.stringify(req.headers.host ?? '')} is not this listener (${[...hosts].join(', ')})`,
      );
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.has(origin.toLowerCase())) {
      throw new AaosError(
        ErrorCode.HTTP_FORBIDDEN,
        `requests from origin ${origin} are refused; only ${[...origins][0]} may call this listener`,
      );
    }
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const route = routes.find(
      (r) =>
        r.prefix === '/' || path === r.prefix || path.startsWith(r.prefix.endsWith('/') ? r.prefix : `${r.prefix}/`),
    );
    if (!route) throw new AaosError(ErrorCode.HTTP_NOT_FOUND, `no route for ${path}`);
    if (!route.public && !tokenMatches(bearerToken(req) ?? cookieToken(req), opts.token)) {
      throw new AaosError(
        ErrorCode.HTTP_UNAUTHORIZED,
        `${path} needs the token: Authorization: Bearer <token from <data-dir>/http-token>, or open the URL that \`agentd console\` prints`,
      );
    }
    await route.handle(req, res);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new AaosError(ErrorCode.CONFIG_INVALID, `cannot listen on ${opts.host}:${opts.port}: ${err.message}`, {
          host: opts.host,
          port: opts.port,
        }),
      ),
    );
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostPart = isIP(opts.host) === 6 ? `[${opts.host}]` : opts.host;
  const url = `http://${hostPart}:${port}`;
  for (const name of new Set([hostPart, ...(isLoopback(opts.host) ? ['localhost', '127.0.0.1', '[::1]'] : [])])) {
    hosts.add(`${name}:${port}`.toLowerCase());
    origins.add(`http://${name}:${port}`.toLowerCase());
  }
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // SSE streams never end on their own
        for (const s of sockets) s.destroy();
      }),
  };
}
