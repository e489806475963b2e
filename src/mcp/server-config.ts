import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { AaosError, ErrorCode } from '../errors/index.js';

/** A server name becomes part of tool names (`mcp.<server>.<tool>`): no dots. */
const MCP_SERVER_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const TimeoutMs = z.number().int().min(100).max(3_600_000);

/** A server started as a child process, spoken to over its stdin/stdout. */
const McpStdioServer = z.strictObject({
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  /** the server's whole environment besides PATH: nothing else of the daemon's is passed */
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.string().min(1).optional(),
  /** per tool call (default 60 s) */
  timeout_ms: TimeoutMs.optional(),
  /** first connection and every reconnection (default 30 s) */
  connect_timeout_ms: TimeoutMs.optional(),
});
type McpStdioServer = z.infer<typeof McpStdioServer>;

/** A server reached over Streamable HTTP. */
const McpHttpServer = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  headers: z.record(z.string(), z.string()).default({}),
  timeout_ms: TimeoutMs.optional(),
  connect_timeout_ms: TimeoutMs.optional(),
});
type McpHttpServer = z.infer<typeof McpHttpServer>;

export type McpServerDeclaration = ({ transport: 'stdio' } & McpStdioServer) | ({ transport: 'http' } & McpHttpServer);

export interface McpServerEntry {
  name: string;
  declaration: McpServerDeclaration;
}

function invalid(file: string, field: string, message: string): never {
  throw new AaosError(ErrorCode.CONFIG_INVALID, `${file}: ${field}: ${message}`, { file, field });
}

/**
 * Parses an MCP server declarations document (YAML or JSON):
 * `servers: {<name>: {command, args, env, cwd} | {url, headers}}`. Errors name the file and field.
 */
export function parseMcpServers(text: string, file: string): McpServerEntry[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    invalid(file, '(document)', `not valid YAML or JSON: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return [];
  if (typeof doc !== 'object' || Array.isArray(doc))
    invalid(file, '(document)', 'expected a mapping with a `servers` key');
  const keys = Object.keys(doc);
  const unknown = keys.find((k) => k !== 'servers');
  if (unknown !== undefined) invalid(file, unknown, "unknown key (expected only 'servers')");
  const servers = (doc as { servers?: unknown }).servers;
  if (servers === undefined || servers === null) return [];
  if (typeof servers !== 'object' || Array.isArray(servers))
    invalid(file, 'servers', 'expected a mapping of server name to declaration');
  const out: McpServerEntry[] = [];
  for (const [name, raw] of Object.entries(servers as Record<string, unknown>)) {
    const at = `servers.${name}`;
    if (!MCP_SERVER_NAME.test(name))
      invalid(
        file,
        at,
        "a server name is lowercase letters, digits, '_' and '-' (it becomes part of mcp.<server>.<tool>)",
      );
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      invalid(file, at, 'expected a mapping with `command` (stdio) or `url` (Streamable HTTP)');
    const hasCommand = 'command' in raw;
    const hasUrl = 'url' in raw;
    if (hasCommand === hasUrl)
      invalid(file, at, 'give exactly one of `command` (a stdio server) or `url` (a Streamable HTTP server)');
    const parsed = (hasCommand ? McpStdioServer : McpHttpServer).safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      invalid(file, [at, ...issue.path.map(String)].join('.'), issue.message);
    }
    const declaration = (
      hasCommand ? { transport: 'stdio', ...parsed.data } : { transport: 'http', ...parsed.data }
    ) as McpServerDeclaration;
    out.push({ name, declaration });
  }
  return out;
}

/** The declarations in the file named by the setting `AAOS_MCP_SERVERS` (YAML or JSON); none when unset. */
export function loadMcpServers(path: string | undefined): McpServerEntry[] {
  if (!path) return [];
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AaosError(ErrorCode.CONFIG_INVALID, `AAOS_MCP_SERVERS: cannot read ${file}: ${(err as Error).message}`, {
      file,
      variable: 'AAOS_MCP_SERVERS',
    });
  }
  return parseMcpServers(text, file);
}
