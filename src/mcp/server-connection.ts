import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ToolListChangedNotificationSchema,
  type CallToolResult,
  type Tool as McpTool,
} from '@modelcontextprotocol/sdk/types.js';
import type { AuditInput } from '../audit/event.js';
import { AaosError, ErrorCode } from '../errors/index.js';
import { VERSION } from '../cli/version.js';
import type { McpServerDeclaration } from './server-config.js';
import { StdioServerTransport } from './stdio-transport.js';

export type McpServerState = 'connecting' | 'ready' | 'reconnecting' | 'closed';

export interface McpConnectionHooks {
  /** the server's tool list, after every (re)connection and every `tools/list_changed` */
  onTools(server: string, tools: McpTool[]): void;
  emit(event: AuditInput): void;
  /** PATH for stdio servers */
  path: string | undefined;
}

const DEFAULT_CALL_TIMEOUT_MS = 60_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30_000;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * One MCP server, held by the supervisor (a worker never holds a connection). Connects,
 * lists the tools, and reconnects with exponential backoff whenever the connection ends
 * without being closed on purpose (a killed server, a dropped HTTP session); a server
 * that cannot be started is reported by name and retried, never fatal to the daemon.
 */
export class McpServerConnection {
  state: McpServerState = 'connecting';
  lastError: string | undefined;
  tools: McpTool[] = [];
  private client: Client | undefined;
  private transport: Transport | undefined;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private firstAttempt: Promise<void> | undefined;

  constructor(
    readonly name: string,
    readonly declaration: McpServerDeclaration,
    private readonly hooks: McpConnectionHooks,
  ) {}

  /** Starts connecting; resolves after the first attempt, whatever its outcome (failures are retried). */
  start(): Promise<void> {
    this.firstAttempt ??= this.connect();
    return this.firstAttempt;
  }

  /** the stdio server's process id, while it runs */
  get pid(): number | undefined {
    return this.transport instanceof StdioServerTransport ? this.transport.pid : undefined;
  }

  private makeTransport(): Transport {
    const d = this.declaration;
    if (d.transport === 'stdio') {
      return new StdioServerTransport({
        command: d.command,
        args: d.args,
        env: d.env,
        path: this.hooks.path,
        ...(d.cwd ? { cwd: d.cwd } : {}),
      });
    }
    return new StreamableHTTPClientTransport(new URL(d.url), { requestInit: { headers: d.headers } });
  }

  private async connect(): Promise<void> {
    if (this.closing) return;
    this.attempt++;
    const transport = this.makeTransport();
    const client = new Client({ name: 'aaos', version: VERSION }, { capabilities: {} });
    this.transport = transport;
    this.client = client;
    try {
      await client.connect(transport, { timeout: this.declaration.connect_timeout_ms ?? DEFAULT_CONNECT_TIMEOUT_MS });
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        void this.refreshTools().catch((err: unknown) =>
          this.report(`tools/list after list_changed failed: ${errorText(err)}`, undefined),
        );
      });
      await this.refreshTools();
      if (this.closing) return void (await client.close().catch(() => {}));
      client.onclose = () => this.onClosed(client);
      this.state = 'ready';
      this.lastError = undefined;
      this.hooks.emit({
        type: 'McpServerConnected',
        agent_id: 'supervisor',
        agent_name: 'supervisor',
        server: this.name,
        transport: this.declaration.transport,
        tools: this.tools.length,
        attempt: this.attempt,
        protocol_version: (transport as { protocolVersion?: string }).protocolVersion ?? null,
      });
      this.attempt = 0;
    } catch (err) {
      const stderr =
        transport instanceof StdioServerTransport && transport.stderr
          ? ` (stderr: ${transport.stderr.slice(-500)})`
          : '';
      await client.close().catch(() => {});
      this.scheduleRetry(`cannot connect: ${errorText(err)}${stderr}`);
    }
  }

  private async refreshTools(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const tools: McpTool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {}, {
        timeout: this.declaration.connect_timeout_ms ?? DEFAULT_CONNECT_TIMEOUT_MS,
      });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor);
    this.tools = tools;
    this.hooks.onTools(this.name, tools);
  }

  private onClosed(client: Client): void {
    if (this.closing || client !== this.client) return;
    this.scheduleRetry('the connection ended');
  }

  private scheduleRetry(reason: string): void {
    if (this.closing) return;
    this.state = 'reconnecting';
    this.client = undefined;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.max(0, this.attempt - 1));
    this.report(reason, delay);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
    this.retryTimer.unref();
  }

  private report(reason: string, retryInMs: number | undefined): void {
    this.lastError = reason;
    this.hooks.emit({
      type: 'McpServerFailed',
      agent_id: 'supervisor',
      agent_name: 'supervisor',
      server: this.name,
      reason,
      attempt: this.attempt,
      ...(retryInMs !== undefined ? { retry_in_ms: retryInMs } : {}),
    } as AuditInput);
  }

  /** Calls one of the server's tools; a call while it is not connected fails at once, naming the server and why. */
  async callTool(tool: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult> {
    const client = this.client;
    if (this.state !== 'ready' || !client) {
      throw new AaosError(
        ErrorCode.MCP_SERVER_UNAVAILABLE,
        `MCP server '${this.name}' is not connected (${this.state}${this.lastError ? `: ${this.lastError}` : ''}); tool '${tool}' was not called`,
        { server: this.name, tool, state: this.state },
      );
    }
    const timeout = this.declaration.timeout_ms ?? DEFAULT_CALL_TIMEOUT_MS;
    try {
      return (await client.callTool({ name: tool, arguments: args }, undefined, { signal, timeout })) as CallToolResult;
    } catch (err) {
      if (signal.aborted)
        throw new AaosError(ErrorCode.CANCELLED, `call of mcp.${this.name}.${tool} was cancelled`, {
          server: this.name,
          tool,
        });
      const code = (err as { code?: unknown }).code;
      if (code === -32001) {
        throw new AaosError(
          ErrorCode.MCP_TIMEOUT,
          `MCP server '${this.name}' did not answer tool '${tool}' within ${timeout} ms`,
          { server: this.name, tool, timeout_ms: timeout },
        );
      }
      throw new AaosError(ErrorCode.TOOL_FAILED, `MCP server '${this.name}' failed tool '${tool}': ${errorText(err)}`, {
        server: this.name,
        tool,
        ...(typeof code === 'number' ? { rpc_code: code } : {}),
      });
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    this.state = 'closed';
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.close().catch(() => {});
    await this.transport?.close().catch(() => {});
  }
}
