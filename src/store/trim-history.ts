import { isSummary, type HistoryEntry } from '../context/history-entry.js';
import { nextSafeCut, safeCuts } from '../context/tool-pairs.js';

/**
 * Keeps the most recent ≤ `max` messages. The cut only lands on a user turn that no tool pair
 * straddles, so it may keep fewer than `max` (none, when the newest turn alone is longer than
 * `max`). Leading summaries are kept and not counted: they are folded into the system prompt.
 */
export function trimHistory<T extends HistoryEntry>(entries: readonly T[], max: number): T[] {
  let lead = 0;
  while (lead < entries.length && isSummary(entries[lead] as HistoryEntry)) lead++;
  const head = entries.slice(0, lead);
  const body = entries.slice(lead);
  const limit = Math.max(0, Math.floor(max));
  if (body.length <= limit && safeCuts(body)[0] === true) return [...head, ...body];
  const cut = nextSafeCut(safeCuts(body), body.length - limit) ?? body.length;
  return [...head, ...body.slice(cut)];
}
