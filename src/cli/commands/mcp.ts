import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Command } from 'commander';
import { createAaosMcpServer } from '../../mcp/aaos-server.js';
import { DaemonClient } from '../client.js';
import { addDaemonOptions, reportError, socketFromFlags, type DaemonFlags } from '../daemon-options.js';
import { ExitCode } from '../exit-codes.js';

/**
 * `agentd mcp`: MCP over stdio for the running daemon of the data dir (Claude Desktop, IDEs).
 * Standard output carries only MCP messages; everything else goes to standard error.
 */
async function mcpCommand(flags: DaemonFlags): Promise<number> {
  const socket = socketFromFlags(flags);
  let client: DaemonClient;
  try {
    client = await DaemonClient.connect(socket);
  } catch (err) {
    return reportError(err, socket);
  }
  const server = createAaosMcpServer(client);
  const transport = new StdioServerTransport();
  const clientGone = new Promise<'client'>((resolve) => {
    transport.onclose = () => resolve('client');
    process.stdin.once('end', () => resolve('client'));
  });
  await server.connect(transport);
  process.stderr.write(`agentd mcp: serving the daemon on ${socket} over stdio\n`);
  const why = await Promise.race([clientGone, client.whenClosed().then(() => 'daemon' as const)]);
  await server.close().catch(() => {});
  client.close();
  if (why === 'daemon') {
    process.stderr.write(`agentd mcp: the daemon on ${socket} went away\n`);
    return ExitCode.UNREACHABLE;
  }
  return ExitCode.OK;
}

export function registerMcp(program: Command): void {
  const cmd = program
    .command('mcp')
    .description('serve MCP over stdio for the running daemon (for Claude Desktop, IDEs and other MCP clients)');
  addDaemonOptions(cmd, { json: false });
  cmd.action(async (opts: DaemonFlags) => {
    process.exitCode = await mcpCommand(opts);
  });
}
