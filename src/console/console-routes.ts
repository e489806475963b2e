import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Connection } from '../daemon/connection.js';
import { findMethod, SubmitParams, type CallContext, type DaemonContext } from '../daemon/methods.js';
import { parseParams } from '../daemon/jsonrpc.js';
import { AaosError, ErrorCode } from '../errors/index.js';
import { readJsonBody } from '../http/body.js';
import { sendJson, TOKEN_COOKIE, type HttpRoute } from '../http/listener.js';
import { formatCapability } from '../capability/capability.js';
import { PROJECT_ROOT } from '../config/built-path.js';
import { LoginCodes } from './login-code.js';
import { CONSOLE_CSS, CONSOLE_HTML } from './page.js';
import { serveEvents } from './event-stream.js';

/** Socket methods the console may call by POST (state changes; the same validation as the CLI). */
const ACTIONS = new Set(['approval.respond', 'capability.revoke', 'run.cancel', 'agent.stop']);

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function sendText(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    ...SECURITY_HEADERS,
    ...extra,
  });
  res.end(body);
}

function requireGet(req: IncomingMessage): void {
  if (req.method !== 'GET' && req.method !== 'HEAD')
    throw new AaosError(ErrorCode.HTTP_BAD_REQUEST, `${req.url ?? ''} answers GET, not ${req.method ?? '?'}`);
}

/** The built browser script (web/console → dist/web/console/app.js); read once. */
function loadScript(): string {
  const file = join(PROJECT_ROOT, 'dist', 'web', 'console', 'app.js');
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new AaosError(
      ErrorCode.INTERNAL,
      `the console script ${file} is missing: run \`npm run build\` (${(err as Error).message})`,
      { file },
    );
  }
}

/** A call context for socket methods that answer with a value (the console never calls a streaming one). */
function callContext(daemon: DaemonContext): CallContext {
  return {
    daemon,
    // streaming methods are not in ACTIONS, so nothing writes to a connection
    conn: undefined as unknown as Connection,
    id: undefined,
    afterResponse: () => {
      throw new AaosError(ErrorCode.INTERNAL, 'a streaming method was called from the console');
    },
  };
}

/**
 * The web console on the daemon's HTTP listener: the page and its script, a JSON API over the
 * runtime (reads by GET, changes by POST with a JSON body through the socket methods), live
 * audit events over SSE, and `/login`, which trades a one-time code for the token cookie.
 */
export function consoleRoutes(daemon: DaemonContext, token: string): HttpRoute[] {
  const { runtime } = daemon;
  const codes = new LoginCodes(token);
  let script: string | undefined;

  async function agentTree(): Promise<unknown> {
    const agents = runtime.listAgents();
    const heaps = await Promise.all(
      agents.map(async (a) => (await runtime.workerStats(a.id, 1000))?.heap_used_mb ?? null),
    );
    return {
      agents: agents.map((a, i) => ({
        ...a,
        heap_used_mb: heaps[i],
        capabilities: runtime
          .tokens(a.id)
          .filter((t) => t.revoked_at === undefined)
          .map((t) => ({
            token_id: t.id,
            capability: formatCapability(t.capability),
            invocations: t.invocation_count,
            constraints: t.constraints,
          })),
      })),
    };
  }

  async function api(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const rest = path.slice('/api/'.length);
    if (rest === 'events') {
      requireGet(req);
      serveEvents(req, res, runtime.events);
      return;
    }
    if (rest === 'agents') {
      requireGet(req);
      sendJson(res, 200, await agentTree());
      return;
    }
    if (rest === 'health') {
      requireGet(req);
      sendJson(res, 200, await findMethod('system.health')!.handle(null, callContext(daemon)));
      return;
    }
    if (rest === 'runs') {
      requireGet(req);
      sendJson(res, 200, { runs: runtime.runs({ limit: 50 }) });
      return;
    }
    if (rest.startsWith('runs/')) {
      requireGet(req);
      const runId = decodeURIComponent(rest.slice('runs/'.length));
      const run = runtime.run(runId);
      if (!run) throw new AaosError(ErrorCode.RUN_NOT_FOUND, `no run with id '${runId}'`, { run_id: runId });
      sendJson(res, 200, { run, events: runtime.auditTail({ runId }, 5000) });
      return;
    }
    if (rest === 'approvals') {
      requireGet(req);
      sendJson(res, 200, runtime.approvals.list());
      return;
    }
    if (rest === 'submit') {
      const body = await readJsonBody(req);
      if (daemon.draining())
        throw new AaosError(ErrorCode.SHUTTING_DOWN, 'the daemon is shutting down and takes no new goals');
      const p = parseParams('submit', SubmitParams, body);
      const handle = runtime.submitGoal(p.goal);
      sendJson(res, 200, { run_id: handle.run_id, workspace: handle.workspace });
      return;
    }
    if (ACTIONS.has(rest)) {
      const body = await readJsonBody(req);
      const spec = findMethod(rest)!;
      if (!spec.readOnly && daemon.draining())
        throw new AaosError(ErrorCode.SHUTTING_DOWN, `the daemon is shutting down; ${rest} is refused`);
      sendJson(res, 200, { result: (await spec.handle(body, callContext(daemon))) ?? null });
      return;
    }
    throw new AaosError(ErrorCode.HTTP_NOT_FOUND, `no console API ${path}`);
  }

  return [
    {
      prefix: '/login',
      public: true,
      handle(req, res) {
        requireGet(req);
        const code = new URL(req.url ?? '/', 'http://x').searchParams.get('code') ?? '';
        if (!codes.redeem(code)) {
          throw new AaosError(
            ErrorCode.HTTP_UNAUTHORIZED,
            'this sign-in link is invalid, expired or already used: run `agentd console` for a new one',
          );
        }
        res.writeHead(303, {
          location: '/',
          'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
          ...SECURITY_HEADERS,
        });
        res.end();
      },
    },
    { prefix: '/api', handle: api },
    {
      prefix: '/console',
      handle(req, res) {
        requireGet(req);
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        if (path === '/console/app.js') sendText(res, 200, 'text/javascript; charset=utf-8', (script ??= loadScript()));
        else if (path === '/console/app.css') sendText(res, 200, 'text/css; charset=utf-8', CONSOLE_CSS);
        else throw new AaosError(ErrorCode.HTTP_NOT_FOUND, `no console file ${path}`);
      },
    },
    {
      prefix: '/',
      handle(req, res) {
        requireGet(req);
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        if (path !== '/' && path !== '/index.html') throw new AaosError(ErrorCode.HTTP_NOT_FOUND, `no page ${path}`);
        sendText(res, 200, 'text/html; charset=utf-8', CONSOLE_HTML);
      },
    },
  ];
}
