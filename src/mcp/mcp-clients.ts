import type { Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import type { AuditInput } from '../audit/event.js';
import type { ToolRegistry } from '../tools/registry.js';
import { createMcpTool, mcpToolName } from './mcp-tool.js';
import type { McpServerEntry } from './server-config.js';
import { McpServerConnection, type McpServerState } from './server-connection.js';

export interface McpServerStatus {
  server: string;
  transport: 'stdio' | 'http';
  state: McpServerState;
  tools: string[];
  error: string | null;
}

/** MCP tool names must also be aaos tool names (letters, digits, '_', '.', ':', '-'; 128 at most). */
const TOOL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/**
 * The MCP servers declared for the daemon, connected by the supervisor. Each server's
 * tools are registered as `mcp.<server>.<tool>` and replaced whenever the server's list
 * changes or it reconnects; a tool that left the server leaves the registry.
 */
export class McpClients {
  private readonly connections: McpServerConnection[];
  private readonly registered = new Map<string, string[]>();

  constructor(
    entries: McpServerEntry[],
    private readonly deps: { registry: ToolRegistry; emit(event: AuditInput): void; path: string | undefined },
  ) {
    this.connections = entries.map(
      (e) =>
        new McpServerConnection(e.name, e.declaration, {
          onTools: (server, tools) => this.install(server, tools),
          emit: deps.emit,
          path: deps.path,
        }),
    );
  }

  /** Connect every server at once; resolves when each has had its first attempt (failures are retried in the background). */
  async start(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.start()));
  }

  connection(server: string): McpServerConnection | undefined {
    return this.connections.find((c) => c.name === server);
  }

  status(): McpServerStatus[] {
    return this.connections.map((c) => ({
      server: c.name,
      transport: c.declaration.transport,
      state: c.state,
      tools: this.registered.get(c.name) ?? [],
      error: c.lastError ?? null,
    }));
  }

  private install(server: string, tools: McpTool[]): void {
    const connection = this.connection(server)!;
    this.deps.registry.remove(...(this.registered.get(server) ?? []));
    const names: string[] = [];
    for (const spec of tools) {
      const name = mcpToolName(server, spec.name);
      if (!TOOL_NAME.test(name) || this.deps.registry.get(name)) {
        this.deps.emit({
          type: 'McpServerFailed',
          agent_id: 'supervisor',
          agent_name: 'supervisor',
          server,
          reason: `tool '${spec.name}' skipped: '${name}' is not a usable aaos tool name (letters, digits, '_', '.', ':', '-'; at most 128) or is taken`,
          attempt: 0,
        });
        continue;
      }
      this.deps.registry.register(createMcpTool(connection, spec));
      names.push(name);
    }
    this.registered.set(server, names);
  }

  async close(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.close()));
    for (const names of this.registered.values()) this.deps.registry.remove(...names);
    this.registered.clear();
  }
}
