import { CHARS_PER_TOKEN } from '../providers/token-estimate.js';
import type { HistoryEntry } from './history-entry.js';

/** Characters of a stored history entry, as the one token estimate (providers/token-estimate.ts) counts them. */
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
        chars +=
          block.type === 'text'
            ? block.text.length
            : block.name.length + (JSON.stringify(block.input ?? null)?.length ?? 0);
      }
      return chars;
    }
  }
}

/** Estimated tokens of history entries. */
export function estimateHistoryTokens(entries: readonly HistoryEntry[]): number {
  let chars = 0;
  for (const entry of entries) chars += entryChars(entry);
  return Math.ceil(chars / CHARS_PER_TOKEN);
}
