import type { HistoryEntry } from './history-entry.js';

/**
 * Where a history may be cut so that [0, b) and [b, len) are each pair-safe: no tool_result
 * in the kept tail answers a tool_use left in the head, and the tail starts with a user turn. A tool_result whose tool_use is nowhere in the history (an orphan) pins every
 * cut to after itself, so a tail never carries a dangling result.
 *
 * Returns `safe` of length len + 1; `safe[len]` (keep nothing) is always true.
 */
export function safeCuts(entries: readonly HistoryEntry[]): boolean[] {
  const useIndex = new Map<string, number>();
  entries.forEach((entry, i) => {
    if (entry.role === 'assistant') {
      for (const block of entry.content) if (block.type === 'tool_use') useIndex.set(block.id, i);
    }
  });
  const safe = new Array<boolean>(entries.length + 1).fill(false);
  safe[entries.length] = true;
  // smallest index of a tool_use answered at or after b (-1 for orphans)
  let minAnswered = Number.POSITIVE_INFINITY;
  for (let b = entries.length - 1; b >= 0; b--) {
    const entry = entries[b];
    if (entry === undefined) continue;
    if (entry.role === 'tool_result') {
      const at = useIndex.get(entry.tool_use_id);
      minAnswered = Math.min(minAnswered, at !== undefined && at < b ? at : -1);
    }
    // a kept tail must open with a user turn: providers reject a conversation that starts with
    // an assistant message (and a summary folded into the system prompt is not a turn)
    safe[b] = entry.role === 'user' && minAnswered >= b;
  }
  return safe;
}

/** Smallest safe cut at or after `from`, never past `limit`; undefined if there is none. */
export function nextSafeCut(safe: readonly boolean[], from: number, limit = safe.length - 1): number | undefined {
  for (let b = Math.max(0, from); b <= limit; b++) if (safe[b]) return b;
  return undefined;
}

/** Largest safe cut at or before `from`, never before `floor`; undefined if there is none. */
export function prevSafeCut(safe: readonly boolean[], from: number, floor = 0): number | undefined {
  for (let b = Math.min(from, safe.length - 1); b >= floor; b--) if (safe[b]) return b;
  return undefined;
}
