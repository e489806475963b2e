import type { HistoryEntry } from './history-entry.js';

/**
 * Rough token estimate: characters / 4. Providers tokenize differently; this only has to be
 * stable and on the generous side of the real count for English text and JSON.
 */
export const CHARS_PER_TOKEN = 4;

export function entryChars(entry: HistoryEntry): number {
  switch (entry.role) {
    case 'user':
    case 'summary':
      return entry.content.length;
    case 'tool_result':
      return entry.tool_use_id.length + entry.content.length;
    case 'assistant': {
      let chars = 0;
      for (const block of entry.content) {
        chars += block.type === 'text' ? block.text.length : block.name.length + (JSON.stringify(block.input ?? null)?.length ?? 0);
      }
      return chars;
    }
  }
}

export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

export function estimateTokens(entries: readonly HistoryEntry[]): number {
  let chars = 0;
  for (const entry of entries) chars += entryChars(entry);
  return Math.ceil(chars / CHARS_PER_TOKEN);
}
