import { createHash } from 'node:crypto';
import type { Message, ModelRequest, ModelResponse } from './model.js';

/** What both the Anthropic and the OpenAI APIs accept as a tool name. */
const WIRE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The name a provider is shown for a tool. aaos names may hold '.' and ':' (MCP tools are
 * `mcp.<server>.<tool>`), which the providers refuse; such a name is spelled with '_' and
 * a short hash of the real name, so two names never meet on the wire.
 */
export function wireToolName(name: string): string {
  if (WIRE_NAME.test(name)) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 55)}_${hash}`;
}

function renameMessages(messages: Message[], rename: (name: string) => string): Message[] {
  return messages.map((m) =>
    m.role === 'assistant' && m.content.some((b) => b.type === 'tool_use')
      ? { ...m, content: m.content.map((b) => (b.type === 'tool_use' ? { ...b, name: rename(b.name) } : b)) }
      : m,
  );
}

/**
 * A request as a provider's wire sees it (tool names spelled for the wire) and the way back
 * for its answer. When every name is already a wire name, both are the identity (the common case).
 */
export function withWireToolNames<R extends Pick<ModelRequest, 'tools' | 'messages'>>(
  request: R,
): { request: R; restore(response: ModelResponse): ModelResponse } {
  const needs =
    request.tools.some((t) => !WIRE_NAME.test(t.name)) ||
    request.messages.some(
      (m) => m.role === 'assistant' && m.content.some((b) => b.type === 'tool_use' && !WIRE_NAME.test(b.name)),
    );
  if (!needs) return { request, restore: (r) => r };
  const back = new Map<string, string>();
  const rename = (name: string): string => {
    const wire = wireToolName(name);
    back.set(wire, name);
    return wire;
  };
  const wired = {
    ...request,
    tools: request.tools.map((t) => ({ ...t, name: rename(t.name) })),
    messages: renameMessages(request.messages, rename),
  };
  return {
    request: wired,
    restore: (response) => ({
      ...response,
      content: response.content.map((b) =>
        b.type === 'tool_use' && back.has(b.name) ? { ...b, name: back.get(b.name)! } : b,
      ),
    }),
  };
}
