import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  ErrorCode as McpErrorCode,
  McpError,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { RemoteError, type StreamFrame } from '../cli/client.js';
import { VERSION } from '../cli/version.js';
import { rpcCodeFor } from '../errors/rpc-code.js';
import { toPlainError } from '../errors/index.js';

/** What the MCP server needs of the daemon: its socket API (a DaemonClient, src/cli/client.ts). */
export interface DaemonApi {
  call<R = unknown>(method: string, params?: Record<string, unknown>): Promise<R>;
  stream<R = unknown>(
    method: string,
    params: Record<string, unknown>,
    onFrame: (frame: StreamFrame) => void,
  ): Promise<{ result: R; ended: Promise<StreamFrame | undefined> }>;
}

const RUN_URI_PREFIX = 'aaos://runs/';

const RUN_ID = z.string().min(1).describe('a run id (from submit_goal or list_runs)');

/** An error from the daemon as the MCP client sees it: the AAOS_ERR_* code first, then what was wrong. */
function describeError(err: unknown): { code: string | undefined; message: string } {
  if (err instanceof RemoteError) return { code: err.code, message: err.message };
  const plain = toPlainError(err);
  return { code: plain.code, message: plain.message };
}

function ok(value: unknown): CallToolResult {
  const structured =
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : { value };
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: structured };
}

/** A tool body whose failures reach the client as an error result naming the AAOS code (MCP's tool-error form). */
async function guarded(fn: () => Promise<unknown>): Promise<CallToolResult> {
  try {
    return ok(await fn());
  } catch (err) {
    const { code, message } = describeError(err);
    return { isError: true, content: [{ type: 'text', text: `${code ? `${code}: ` : ''}${message}` }] };
  }
}

/** One line per audit event for a progress notification. */
function progressMessage(event: Record<string, unknown>): string {
  const who = typeof event['agent_name'] === 'string' ? event['agent_name'] : 'aaos';
  const what = String(event['type']);
  const detail = event['tool'] ?? event['stop_reason'] ?? event['status'] ?? event['method'];
  return `${who}: ${what}${detail !== undefined ? ` ${String(detail)}` : ''}`;
}

/**
 * aaos as an MCP server: goals, runs, agents and approvals of one daemon, reached through its
 * socket API (so `agentd mcp` over stdio and `/mcp` on the HTTP listener behave the same).
 * Runs are resources `aaos://runs/{id}` a client may subscribe to.
 */
export function createAaosMcpServer(daemon: DaemonApi): McpServer {
  const server = new McpServer(
    { name: 'aaos', title: 'aaos agent runtime', version: VERSION },
    { capabilities: { resources: { subscribe: true, listChanged: true }, tools: { listChanged: false } } },
  );

  server.registerTool(
    'submit_goal',
    {
      title: 'Submit a goal',
      description:
        "Submit a goal to the daemon's bootstrap agent. Returns the run id at once; when the request carries a progress token, the call instead reports the run's events as progress notifications and returns when the run ends (cancelling the request cancels the run).",
      inputSchema: { goal: z.string().trim().min(1).describe('what the agents should do') },
    },
    async ({ goal }, extra) => {
      const progressToken = extra._meta?.progressToken;
      return guarded(async () => {
        let progress = 0;
        const sendProgress = (message: string): void => {
          if (progressToken === undefined) return;
          progress++;
          void extra
            .sendNotification({ method: 'notifications/progress', params: { progressToken, progress, message } })
            .catch(() => {});
        };
        const { result, ended } = await daemon.stream<{ run_id: string; workspace: string }>(
          'agent.submit_streaming',
          { goal },
          (frame) => {
            if (frame.kind === 'event') sendProgress(progressMessage(frame['event'] as Record<string, unknown>));
          },
        );
        if (progressToken === undefined)
          return {
            run_id: result.run_id,
            workspace: result.workspace,
            state: 'queued',
            uri: `${RUN_URI_PREFIX}${result.run_id}`,
          };
        const onAbort = (): void => void daemon.call('run.cancel', { run_id: result.run_id }).catch(() => {});
        extra.signal.addEventListener('abort', onAbort, { once: true });
        try {
          const end = await ended;
          return {
            run_id: result.run_id,
            workspace: result.workspace,
            state: end?.['status'] ?? 'unknown',
            result: end?.['result'] ?? null,
            ...(end?.['error'] ? { error: end['error'] } : {}),
            uri: `${RUN_URI_PREFIX}${result.run_id}`,
          };
        } finally {
          extra.signal.removeEventListener('abort', onAbort);
        }
      });
    },
  );

  server.registerTool(
    'get_run',
    {
      title: 'Get a run',
      description: 'State, goal, result, usage and error of one run.',
      inputSchema: { run_id: RUN_ID },
    },
    async ({ run_id }) => guarded(() => daemon.call('run.status', { run_id })),
  );
  server.registerTool(
    'list_runs',
    { title: 'List runs', description: 'Every run the daemon knows, newest first.', inputSchema: {} },
    async () => guarded(() => daemon.call('run.list')),
  );
  server.registerTool(
    'cancel_run',
    {
      title: 'Cancel a run',
      description: 'Cancel a queued or running run (its agents stop their work).',
      inputSchema: { run_id: RUN_ID },
    },
    async ({ run_id }) => guarded(() => daemon.call('run.cancel', { run_id })),
  );
  server.registerTool(
    'list_agents',
    { title: 'List agents', description: 'The live agents: id, name, model, state, parent.', inputSchema: {} },
    async () => guarded(() => daemon.call('agent.list')),
  );
  server.registerTool(
    'list_approvals',
    { title: 'List approvals', description: 'Tool calls waiting for a human decision.', inputSchema: {} },
    async () => guarded(() => daemon.call('approval.list')),
  );
  server.registerTool(
    'respond_approval',
    {
      title: 'Answer an approval',
      description: 'Approve or deny a waiting tool call.',
      inputSchema: {
        approval_id: z.string().min(1).describe('from list_approvals'),
        decision: z.enum(['approve', 'deny']),
        reason: z.string().optional(),
      },
    },
    async ({ approval_id, decision, reason }) =>
      guarded(() =>
        daemon.call('approval.respond', { id: approval_id, decision, ...(reason !== undefined ? { reason } : {}) }),
      ),
  );

  server.registerResource(
    'run',
    new ResourceTemplate(`${RUN_URI_PREFIX}{run_id}`, {
      list: async () => {
        const { runs } = await daemon.call<{ runs: Array<{ run_id: string; goal: string; state: string }> }>(
          'run.list',
        );
        return {
          resources: runs.map((r) => ({
            uri: `${RUN_URI_PREFIX}${r.run_id}`,
            name: `run ${r.run_id}`,
            description: `${r.state}: ${r.goal.slice(0, 120)}`,
            mimeType: 'application/json',
          })),
        };
      },
    }),
    {
      title: 'aaos run',
      description: 'One goal run: its state, result, usage and error.',
      mimeType: 'application/json',
    },
    async (uri, variables) => {
      const runId = String(variables['run_id']);
      try {
        const run = await daemon.call('run.status', { run_id: runId });
        return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(run, null, 2) }] };
      } catch (err) {
        const { code, message } = describeError(err);
        throw new McpError(
          code === 'AAOS_ERR_RUN_NOT_FOUND' ? McpErrorCode.InvalidParams : rpcCodeFor(code ?? ''),
          `${uri.href}: ${message}`,
          { code },
        );
      }
    },
  );

  // resources/subscribe: follow the run's events and tell the client each time it changed
  const subscriptions = new Map<string, { active: boolean }>();
  server.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    const uri = request.params.uri;
    if (!uri.startsWith(RUN_URI_PREFIX))
      throw new McpError(
        McpErrorCode.InvalidParams,
        `only runs (${RUN_URI_PREFIX}<id>) can be subscribed to, not ${uri}`,
      );
    const runId = uri.slice(RUN_URI_PREFIX.length);
    if (subscriptions.get(uri)?.active) return {};
    const sub = { active: true };
    try {
      const { ended } = await daemon.stream('agent.logs_streaming', { run_id: runId, follow: true }, (frame) => {
        if (sub.active && (frame.kind === 'event' || frame.kind === 'end'))
          void server.server.sendResourceUpdated({ uri }).catch(() => {});
      });
      void ended.then(() => {
        if (subscriptions.get(uri) === sub) subscriptions.delete(uri);
      });
    } catch (err) {
      const { code, message } = describeError(err);
      throw new McpError(McpErrorCode.InvalidParams, `cannot subscribe to ${uri}: ${message}`, { code });
    }
    subscriptions.set(uri, sub);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    const sub = subscriptions.get(request.params.uri);
    if (sub) sub.active = false;
    subscriptions.delete(request.params.uri);
    return {};
  });

  return server;
}
