import { z } from 'zod';
import { Message } from '../providers/model.js';

/**
 * A summary of older turns. It lives only at the head of a persisted history and is folded
 * into the system prompt before a model call (never sent as a turn, which would break
 * user/assistant alternation).
 */
export const SummaryEntry = z.object({
  role: z.literal('summary'),
  content: z.string(),
  /** how many original messages this summary (with any summary it replaced) stands for */
  messages_summarized: z.number().int().nonnegative(),
  /** indices, inclusive, of the summarised entries in the history it was made from */
  source_range: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});
export type SummaryEntry = z.infer<typeof SummaryEntry>;

/** What a session persists: messages, optionally led by summaries. */
export const HistoryEntry = z.union([Message, SummaryEntry]);
export type HistoryEntry = z.infer<typeof HistoryEntry>;

export function isSummary(entry: HistoryEntry): entry is SummaryEntry {
  return entry.role === 'summary';
}
