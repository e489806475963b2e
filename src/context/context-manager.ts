import { AaosError, ErrorCode } from '../errors/index.js';
import type { Message } from '../providers/model.js';
import { isSummary, type HistoryEntry, type SummaryEntry } from './history-entry.js';
import { CHARS_PER_TOKEN, estimateTextTokens } from '../providers/token-estimate.js';
import { entryChars, estimateHistoryTokens } from './history-tokens.js';
import type { TokenBudget } from './token-budget.js';
import { nextSafeCut, prevSafeCut, safeCuts } from './tool-pairs.js';

/** System prompt for the summarisation call the supervisor makes with `summarization_model`. */
export const SUMMARIZE_SYSTEM_PROMPT =
  'Condense the conversation below into a compact, factual summary that another assistant can continue from. ' +
  'Keep every name, number, decision, stated preference and tool outcome; drop pleasantries and repetition.';

export const SUMMARY_HEADER = '[Previous conversation summary]';

const DEFAULT_SUMMARIZE_THRESHOLD = 0.7;
/** share of the budget, counted from the oldest entry, that one summarisation replaces */
const DEFAULT_SUMMARIZE_FRACTION = 0.4;

/** Messages taken out of the live history; the caller persists them via SessionStore.archive. */
export interface ArchiveRequest {
  messages: HistoryEntry[];
  /** inclusive indices in the history given to prepareContext */
  source_range: [number, number];
  reason: 'summarized' | 'dropped';
}

export interface PrepareContextInput {
  history: readonly HistoryEntry[];
  systemPrompt: string;
  budget: TokenBudget;
  /** summarise when the request estimate is strictly above threshold × budget (default 0.7) */
  threshold?: number;
  /** share of the budget to summarise, oldest first (default 0.4) */
  summarizeFraction?: number;
  /** tokens the caller needs beside system + messages (tool schemas, max output) */
  reserveTokens?: number;
  /** context window of the summarisation model; the selection is kept within 90% of it */
  summarizerMaxTokens?: number;
  /** returns the summary text of `entries` (a leading previous summary included); may throw */
  summarize(entries: HistoryEntry[]): Promise<string>;
  archive?(segment: ArchiveRequest): void;
}

export interface PreparedContext {
  /** what to send as turns */
  messages: Message[];
  /** the system prompt with any summary folded in front */
  system: string;
  /** the history to persist (SessionStore.replace) when `changed` */
  history: HistoryEntry[];
  changed: boolean;
  /** estimated tokens of the prepared request, reserve included */
  estimate: number;
  summarized?: { count: number; tokens_saved: number };
  /** set when messages were dropped without a summary; audit ContextSummarizationFailed */
  fallback?: { dropped: number; reason: string };
}

/** Renders entries as plain text for the summarisation request. */
export function renderTranscript(entries: readonly HistoryEntry[]): string {
  const lines: string[] = [];
  for (const entry of entries) {
    switch (entry.role) {
      case 'summary':
        lines.push(`Previous summary: ${entry.content}`);
        break;
      case 'user':
        lines.push(`User: ${entry.content}`);
        break;
      case 'assistant':
        for (const block of entry.content) {
          if (block.type === 'text') lines.push(`Assistant: ${block.text}`);
          else
            lines.push(`Assistant called tool ${block.name} (${block.id}) with ${JSON.stringify(block.input ?? null)}`);
        }
        break;
      case 'tool_result':
        lines.push(`Tool ${entry.is_error ? 'error' : 'result'} (${entry.tool_use_id}): ${entry.content}`);
        break;
    }
  }
  return lines.join('\n');
}

/**
 * Splits a persisted history into model turns and a system prompt: summaries go in front of
 * the prompt, never into the turns (a summary turn would break user/assistant alternation).
 */
export function foldSummaries(
  history: readonly HistoryEntry[],
  systemPrompt: string,
): { messages: Message[]; system: string } {
  const summaries: string[] = [];
  const messages: Message[] = [];
  for (const entry of history) {
    if (isSummary(entry)) summaries.push(entry.content);
    else messages.push(entry);
  }
  if (summaries.length === 0) return { messages, system: systemPrompt };
  return { messages, system: `${SUMMARY_HEADER}\n${summaries.join('\n\n')}\n\n${systemPrompt}` };
}

/**
 * Fits a history into the agent's budget. Under the threshold it changes nothing. Over it, the
 * oldest entries (about `summarizeFraction` of the budget, cut where no tool pair is split) are
 * summarised by the injected `summarize` and replaced by one leading summary entry. If the
 * summariser fails, the oldest whole turns are dropped instead until the estimate is back under
 * the threshold, and `fallback` says so. Pure: its only effects are the two callbacks.
 */
export async function prepareContext(input: PrepareContextInput): Promise<PreparedContext> {
  const threshold = input.threshold ?? DEFAULT_SUMMARIZE_THRESHOLD;
  const fraction = input.summarizeFraction ?? DEFAULT_SUMMARIZE_FRACTION;
  if (!(threshold > 0 && threshold <= 1)) {
    throw new AaosError(ErrorCode.CONFIG_INVALID, `summarization threshold must be in (0, 1], got ${threshold}`, {
      threshold,
    });
  }
  if (!(fraction > 0 && fraction < 1)) {
    throw new AaosError(ErrorCode.CONFIG_INVALID, `summarize fraction must be in (0, 1), got ${fraction}`, {
      fraction,
    });
  }
  const reserve = input.reserveTokens ?? 0;
  const maxTokens = input.budget.maxTokens;
  const limit = maxTokens * threshold;

  const lead: SummaryEntry[] = [];
  while (lead.length < input.history.length && isSummary(input.history[lead.length] as HistoryEntry)) {
    lead.push(input.history[lead.length] as SummaryEntry);
  }
  const body = input.history.slice(lead.length);
  const estimateOf = (head: readonly HistoryEntry[], tail: readonly HistoryEntry[]): number => {
    const folded = foldSummaries([...head, ...tail], input.systemPrompt);
    return estimateTextTokens(folded.system) + estimateHistoryTokens(folded.messages) + reserve;
  };
  const finish = (
    history: HistoryEntry[],
    changed: boolean,
    extra: Pick<PreparedContext, 'summarized' | 'fallback'> = {},
  ): PreparedContext => {
    const folded = foldSummaries(history, input.systemPrompt);
    return {
      ...folded,
      history,
      changed,
      estimate: estimateTextTokens(folded.system) + estimateHistoryTokens(folded.messages) + reserve,
      ...extra,
    };
  };

  if (estimateOf(lead, body) <= limit) return finish([...input.history], false);

  const safe = safeCuts(body);
  // always leave the newest turn: it is what the model must answer
  const maxCut = prevSafeCut(safe, body.length - 1, 1);

  let target = fraction * maxTokens;
  if (input.summarizerMaxTokens !== undefined) target = Math.min(target, 0.7 * input.summarizerMaxTokens);
  let acc = estimateHistoryTokens(lead);
  let wanted = Math.floor(body.length / 2);
  for (let i = 0; i < body.length; i++) {
    acc += estimateHistoryTokens([body[i] as HistoryEntry]);
    if (acc >= target) {
      wanted = i + 1;
      break;
    }
  }
  const cut =
    maxCut === undefined ? undefined : (nextSafeCut(safe, Math.max(1, wanted), maxCut) ?? prevSafeCut(safe, wanted, 1));

  let failure: string;
  if (cut === undefined) {
    failure = 'no older messages can be summarised without splitting a tool_use from its tool_result';
  } else {
    const selected: HistoryEntry[] = [...lead, ...body.slice(0, cut)];
    let text = '';
    try {
      text = (await input.summarize(selected)).trim();
      failure = text.length === 0 ? 'the summariser returned an empty summary' : '';
    } catch (err) {
      failure = `the summariser failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (failure === '') {
      const summary: SummaryEntry = {
        role: 'summary',
        content: text,
        messages_summarized: lead.reduce((n, s) => n + s.messages_summarized, 0) + cut,
        source_range: [0, lead.length + cut - 1],
      };
      input.archive?.({
        messages: body.slice(0, cut),
        source_range: [lead.length, lead.length + cut - 1],
        reason: 'summarized',
      });
      const summarized = {
        count: cut,
        tokens_saved: Math.max(0, estimateHistoryTokens(selected) - estimateTextTokens(text)),
      };
      const rest = body.slice(cut);
      if (estimateOf([summary], rest) <= maxTokens) return finish([summary, ...rest], true, { summarized });
      // the summary fits but the newest turns alone are still too big: drop what must go
      const dropped = dropOldest([summary], rest, lead.length + cut, maxTokens, estimateOf, input.archive);
      return finish(dropped.history, true, {
        summarized,
        fallback: { dropped: dropped.count, reason: 'the request was still over the budget after summarising' },
      });
    }
  }
  const dropped = dropOldest(lead, body, lead.length, limit, estimateOf, input.archive);
  return finish(dropped.history, dropped.count > 0, { fallback: { dropped: dropped.count, reason: failure } });
}

/** Drops whole pair-safe groups from the front of `body` until the estimate is ≤ `target` (the newest turn stays). */
function dropOldest(
  head: readonly HistoryEntry[],
  body: readonly HistoryEntry[],
  offset: number,
  target: number,
  estimateOf: (head: readonly HistoryEntry[], tail: readonly HistoryEntry[]) => number,
  archive: PrepareContextInput['archive'],
): { history: HistoryEntry[]; count: number } {
  const safe = safeCuts(body);
  const maxCut = prevSafeCut(safe, body.length - 1, 1);
  let cut = 0;
  if (maxCut !== undefined) {
    cut = maxCut;
    // head tokens are fixed; the tail shrinks by whole entries, so track characters
    const fixed = estimateOf(head, []);
    let tailChars = 0;
    for (const entry of body) tailChars += entryChars(entry);
    for (let b = 1; b <= maxCut; b++) {
      tailChars -= entryChars(body[b - 1] as HistoryEntry);
      if (safe[b] && fixed + Math.ceil(tailChars / CHARS_PER_TOKEN) <= target) {
        cut = b;
        break;
      }
    }
  }
  if (cut > 0) archive?.({ messages: body.slice(0, cut), source_range: [offset, offset + cut - 1], reason: 'dropped' });
  return { history: [...head, ...body.slice(cut)], count: cut };
}
