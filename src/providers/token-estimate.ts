import type { ContentBlock, Message, ToolDefinition } from './model.js';

/**
 * Rough token counts, the one estimate aaos uses (about 4 characters per token): before a
 * call, where no provider count exists yet (budgets), by the scripted model when a turn gives
 * no usage, and for fitting history into a context window (context/history-tokens.ts).
 * Deliberately simple, deterministic and on the generous side; never a tokenizer.
 */
export const CHARS_PER_TOKEN = 4;

export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

function messageChars(message: Message): number {
  switch (message.role) {
    case 'user':
      return message.content.length;
    case 'tool_result':
      return message.content.length;
    case 'assistant':
      return contentChars(message.content);
  }
}

function contentChars(content: ContentBlock[]): number {
  let chars = 0;
  for (const block of content) {
    chars += block.type === 'text' ? block.text.length : block.name.length + (JSON.stringify(block.input) ?? '').length;
  }
  return chars;
}

/**
 * Character counts of messages and tool definitions already seen: a run's history is sent
 * again with every model call, and a tool's schema with every call of every agent. Both
 * are treated as immutable once sent (a changed message is a new object).
 */
const charsSeen = new WeakMap<object, number>();

function cachedChars<T extends object>(item: T, count: (item: T) => number): number {
  let chars = charsSeen.get(item);
  if (chars === undefined) {
    chars = count(item);
    charsSeen.set(item, chars);
  }
  return chars;
}

const toolChars = (tool: ToolDefinition): number =>
  tool.name.length + tool.description.length + JSON.stringify(tool.input_schema).length;

/** Estimated input tokens of a request: system prompt + every message + tool definitions. */
export function estimateInputTokens(request: { system: string; messages: Message[]; tools: ToolDefinition[] }): number {
  let chars = request.system.length;
  for (const message of request.messages) chars += cachedChars(message, messageChars);
  for (const tool of request.tools) chars += cachedChars(tool, toolChars);
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

/** Estimated output tokens of a response's content (text + tool names and inputs). */
export function estimateOutputTokens(content: ContentBlock[]): number {
  return Math.ceil(contentChars(content) / CHARS_PER_TOKEN);
}
