import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { CallToolResult, Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import { AaosError, ErrorCode } from '../errors/index.js';
import type { Tool } from '../tools/tool.js';
import type { McpServerConnection } from './server-connection.js';

const validators = new AjvJsonSchemaValidator();

/** Inline image or blob bytes above this are described, not passed to the model. */
const MAX_INLINE_BASE64 = 256 * 1024;

export function mcpToolName(server: string, tool: string): string {
  return `mcp.${server}.${tool}`;
}

/** One content block of an MCP tool result as the agent sees it. */
type McpContent =
  | { type: 'text'; text: string }
  | { type: 'image' | 'audio'; mime_type: string; data?: string; bytes: number }
  | { type: 'resource'; uri: string; mime_type?: string; text?: string; blob?: string; bytes?: number }
  | { type: 'resource_link'; uri: string; name: string; mime_type?: string; description?: string };

function inline(data: string): { data?: string; bytes: number } {
  const bytes = Math.floor((data.length * 3) / 4);
  return data.length <= MAX_INLINE_BASE64 ? { data, bytes } : { bytes };
}

function mapContent(block: CallToolResult['content'][number]): McpContent {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: block.text };
    case 'image':
    case 'audio':
      return { type: block.type, mime_type: block.mimeType, ...inline(block.data) };
    case 'resource': {
      const r = block.resource;
      const base = { type: 'resource' as const, uri: r.uri, ...(r.mimeType ? { mime_type: r.mimeType } : {}) };
      if ('text' in r && typeof r.text === 'string') return { ...base, text: r.text };
      const blob = (r as { blob?: string }).blob ?? '';
      const { data, bytes } = inline(blob);
      return { ...base, ...(data !== undefined ? { blob: data } : {}), bytes };
    }
    case 'resource_link':
      return {
        type: 'resource_link',
        uri: block.uri,
        name: block.name,
        ...(block.mimeType ? { mime_type: block.mimeType } : {}),
        ...(block.description ? { description: block.description } : {}),
      };
  }
}

/**
 * An MCP tool result as an aaos tool result: text only → the text; anything else (images,
 * resources, structured content) → `{content, structured?}`. `isError` → a failed tool
 * call whose message is the server's text.
 */
function mapToolResult(server: string, tool: string, result: CallToolResult): unknown {
  const content = (result.content ?? []).map(mapContent);
  const texts = content.filter((c): c is { type: 'text'; text: string } => c.type === 'text').map((c) => c.text);
  if (result.isError) {
    throw new AaosError(
      ErrorCode.TOOL_FAILED,
      `mcp.${server}.${tool} reported an error: ${texts.join('\n') || '(no message)'}`,
      { server, tool, content },
    );
  }
  if (content.length === texts.length && result.structuredContent === undefined) return texts.join('\n');
  return { content, ...(result.structuredContent !== undefined ? { structured: result.structuredContent } : {}) };
}

/** An MCP server's tool as an aaos tool: validated against the server's input schema, called on the supervisor's connection. */
export function createMcpTool(connection: McpServerConnection, spec: McpTool): Tool {
  const name = mcpToolName(connection.name, spec.name);
  const { $schema: _ignored, ...inputSchema } = spec.inputSchema as Record<string, unknown>;
  const validate = validators.getValidator<Record<string, unknown>>(spec.inputSchema as never);
  const description = [spec.description ?? spec.title ?? spec.name, `(MCP server '${connection.name}')`].join(' ');
  return {
    definition: { name, description, input_schema: inputSchema },
    // repeated after a restart only when the server says the tool only reads
    idempotent: spec.annotations?.readOnlyHint === true,
    async invoke(rawInput, ctx) {
      const input = rawInput ?? {};
      const checked = validate(input);
      if (!checked.valid) {
        throw new AaosError(
          ErrorCode.TOOL_INPUT_INVALID,
          `invalid input for tool '${name}': ${checked.errorMessage ?? 'does not match the server schema'}`,
          {
            tool: name,
            server: connection.name,
          },
        );
      }
      const result = await connection.callTool(spec.name, checked.data, ctx.signal);
      return mapToolResult(connection.name, spec.name, result);
    },
  };
}
