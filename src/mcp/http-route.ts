import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { DaemonClient } from '../cli/client.js';
import { toPlainError } from '../errors/index.js';
import { createAaosMcpServer } from './aaos-server.js';

/** A route of the daemon's HTTP listener (src/http/listener.ts), by shape. */
export interface McpHttpRoute {
  prefix: string;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  client: DaemonClient;
  lastUsed: number;
}

const DEFAULT_MAX_SESSIONS = 32;
const DEFAULT_IDLE_MS = 30 * 60_000;

function rpcError(res: ServerResponse, status: number, code: number, message: string, aaosCode?: string): void {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: null,
    error: { code, message, ...(aaosCode ? { data: { code: aaosCode } } : {}) },
  });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * MCP over Streamable HTTP at `/mcp` (the listener has already checked the token, the Host
 * and the Origin). Each MCP session gets its own server and its own connection to the
 * daemon's socket, so `/mcp` and `agentd mcp` share one implementation. Sessions end on
 * DELETE, when idle for `idleMs`, or when the daemon closes the socket.
 */
export function createMcpHttpRoute(opts: { socketPath: string | undefined; maxSessions?: number; idleMs?: number }): {
  route: McpHttpRoute;
  close(): Promise<void>;
} {
  const sessions = new Map<string, Session>();
  const maxSessions = opts.maxSessions ?? DEFAULT_MAX_SESSIONS;
  const idleMs = opts.idleMs ?? DEFAULT_IDLE_MS;

  const end = async (id: string): Promise<void> => {
    const s = sessions.get(id);
    if (!s) return;
    sessions.delete(id);
    await s.server.close().catch(() => {});
    s.client.close();
  };
  const sweep = setInterval(
    () => {
      const cutoff = Date.now() - idleMs;
      for (const [id, s] of sessions) if (s.lastUsed < cutoff) void end(id);
    },
    Math.min(idleMs, 60_000),
  );
  sweep.unref();

  async function open(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST')
      return rpcError(
        res,
        400,
        -32000,
        `start an MCP session with POST ${'/mcp'} (initialize); ${req.method} needs an mcp-session-id header`,
      );
    if (sessions.size >= maxSessions)
      return rpcError(
        res,
        503,
        -32000,
        `too many MCP sessions (${maxSessions}); close one (DELETE /mcp) or wait for idle ones to expire`,
      );
    if (!opts.socketPath)
      return rpcError(
        res,
        503,
        -32000,
        '/mcp needs the daemon socket, and this daemon serves none (start it with --socket)',
      );
    let client: DaemonClient;
    try {
      client = await DaemonClient.connect(opts.socketPath);
    } catch (err) {
      const plain = toPlainError(err);
      return rpcError(res, 503, -32000, plain.message, plain.code);
    }
    const server = createAaosMcpServer(client);
    let session: Session | undefined;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        session = { transport, server, client, lastUsed: Date.now() };
        sessions.set(id, session);
        void client.whenClosed().then(() => end(id));
      },
      onsessionclosed: (id) => void end(id),
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
    if (!session) {
      // not an initialize request, or it failed: nothing to keep
      await server.close().catch(() => {});
      client.close();
    }
  }

  return {
    route: {
      prefix: '/mcp',
      async handle(req, res) {
        const header = req.headers['mcp-session-id'];
        const id = Array.isArray(header) ? header[0] : header;
        if (id === undefined) return open(req, res);
        const s = sessions.get(id);
        if (!s)
          return rpcError(
            res,
            404,
            -32001,
            `no MCP session ${id} (it ended or expired); start a new one with initialize`,
          );
        s.lastUsed = Date.now();
        await s.transport.handleRequest(req, res);
      },
    },
    close: async () => {
      clearInterval(sweep);
      await Promise.all([...sessions.keys()].map((id) => end(id)));
    },
  };
}
