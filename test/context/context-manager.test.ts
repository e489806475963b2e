import { describe, expect, it } from 'vitest';
import {
  SUMMARY_HEADER,
  foldSummaries,
  prepareContext,
  renderTranscript,
  type ArchiveRequest,
} from '../../src/context/context-manager.js';
import type { HistoryEntry, SummaryEntry } from '../../src/context/history-entry.js';
import { tokenBudget } from '../../src/context/token-budget.js';
import { estimateHistoryTokens } from '../../src/context/history-tokens.js';
import { estimateTextTokens } from '../../src/providers/token-estimate.js';
import { safeCuts } from '../../src/context/tool-pairs.js';

const pad = (label: string, tokens: number): string =>
  `${label} ${'x'.repeat(Math.max(0, tokens * 4 - label.length - 1))}`;
const user = (label: string, tokens = 100): HistoryEntry => ({ role: 'user', content: pad(label, tokens) });
const reply = (label: string, tokens = 100): HistoryEntry => ({
  role: 'assistant',
  content: [{ type: 'text', text: pad(label, tokens) }],
});
const call = (id: string): HistoryEntry => ({
  role: 'assistant',
  content: [{ type: 'tool_use', id, name: 'file_read', input: { path: `/data/${id}` } }],
});
const result = (id: string, tokens = 100): HistoryEntry => ({
  role: 'tool_result',
  tool_use_id: id,
  content: pad(`result ${id}`, tokens),
  is_error: false,
});

/** n turns: user, assistant tool call, its result, assistant answer — each turn ~ 3 × perPart tokens + the call. */
function conversation(turns: number, perPart = 100): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (let i = 0; i < turns; i++)
    out.push(user(`q${i}`, perPart), call(`t${i}`), result(`t${i}`, perPart), reply(`a${i}`, perPart));
  return out;
}

function assertPairSafe(messages: readonly HistoryEntry[]): void {
  expect(messages[0]?.role).not.toBe('tool_result');
  const uses = new Set<string>();
  for (const m of messages) {
    if (m.role === 'assistant') for (const b of m.content) if (b.type === 'tool_use') uses.add(b.id);
    if (m.role === 'tool_result') expect(uses.has(m.tool_use_id), `result ${m.tool_use_id} has its call`).toBe(true);
  }
}

const SYSTEM = 'You are a careful assistant.';

describe('token estimate and budget', () => {
  it('estimates chars / 4 over every kind of entry', () => {
    expect(estimateTextTokens('abcdefgh')).toBe(2);
    expect(estimateHistoryTokens([{ role: 'user', content: 'abcd' }])).toBe(1);
    expect(estimateHistoryTokens([call('t1')])).toBe(
      Math.ceil(('file_read'.length + JSON.stringify({ path: '/data/t1' }).length) / 4),
    );
    expect(
      estimateHistoryTokens([{ role: 'tool_result', tool_use_id: 'id', content: 'abcdef', is_error: false }]),
    ).toBe(2);
  });

  it('takes the budget from context_window, capped by the model', () => {
    expect(tokenBudget('8k', 200_000)).toEqual({ maxTokens: 8192 });
    expect(tokenBudget('512k', 200_000)).toEqual({ maxTokens: 200_000 });
    expect(tokenBudget(undefined, 128_000)).toEqual({ maxTokens: 128_000 });
    expect(() => tokenBudget('lots', 1000)).toThrow(
      expect.objectContaining({ code: 'AAOS_ERR_CONTEXT_WINDOW_INVALID' }),
    );
  });
});

describe('prepareContext', () => {
  it('leaves a history under the threshold unchanged and never calls the summariser', async () => {
    const history = conversation(2);
    const prepared = await prepareContext({
      history,
      systemPrompt: SYSTEM,
      budget: { maxTokens: 10_000 },
      summarize: () => Promise.reject(new Error('must not be called')),
    });
    expect(prepared.changed).toBe(false);
    expect(prepared.messages).toEqual(history);
    expect(prepared.system).toBe(SYSTEM);
    expect(prepared.summarized).toBeUndefined();
    expect(prepared.fallback).toBeUndefined();
  });

  it('over the threshold, summarises the oldest part into the system prompt, never as a turn', async () => {
    const history = conversation(10); // ~3100 tokens
    const budget = { maxTokens: 4000 }; // threshold 2800
    const seen: HistoryEntry[][] = [];
    const archived: ArchiveRequest[] = [];
    const prepared = await prepareContext({
      history,
      systemPrompt: SYSTEM,
      budget,
      summarize: async (entries) => {
        seen.push(entries);
        return 'The user asked q0..q4 and the files were read.';
      },
      archive: (segment) => archived.push(segment),
    });
    expect(prepared.changed).toBe(true);
    expect(prepared.summarized?.count).toBeGreaterThan(0);
    const count = prepared.summarized!.count;
    // about 40% of the budget (1600 tokens) went to the summariser
    expect(estimateHistoryTokens(seen[0]!)).toBeGreaterThanOrEqual(1600);
    expect(estimateHistoryTokens(seen[0]!)).toBeLessThan(2000);
    expect(seen[0]).toEqual(history.slice(0, count));

    expect(prepared.system).toBe(`${SUMMARY_HEADER}\nThe user asked q0..q4 and the files were read.\n\n${SYSTEM}`);
    expect(prepared.messages).toEqual(history.slice(count));
    expect(prepared.messages.some((m) => (m.role as string) === 'summary')).toBe(false);
    expect(
      prepared.messages.every((m) => !(m.role === 'user' && m.content.includes('Previous conversation summary'))),
    ).toBe(true);
    assertPairSafe(prepared.messages);

    // persisted shape: one leading summary, then the kept tail
    expect(prepared.history[0]).toEqual({
      role: 'summary',
      content: 'The user asked q0..q4 and the files were read.',
      messages_summarized: count,
      source_range: [0, count - 1],
    });
    expect(prepared.history.slice(1)).toEqual(prepared.messages);
    expect(archived).toEqual([
      { messages: history.slice(0, count), source_range: [0, count - 1], reason: 'summarized' },
    ]);
    expect(prepared.summarized!.tokens_saved).toBe(
      estimateHistoryTokens(history.slice(0, count)) -
        estimateTextTokens('The user asked q0..q4 and the files were read.'),
    );
    expect(prepared.estimate).toBeLessThanOrEqual(budget.maxTokens * 0.7);
  });

  it('moves the boundary so a tool_use and its tool_result stay on the same side', async () => {
    // a boundary at 40% of 1000 = 400 tokens falls right after the call of turn 1
    const history: HistoryEntry[] = [
      user('q0', 150),
      reply('a0', 150),
      user('q1', 99),
      call('big'),
      result('big', 300),
      reply('a1', 50),
      user('q2', 30),
    ];
    const cuts = safeCuts(history);
    expect(cuts[4]).toBe(false);
    const prepared = await prepareContext({
      history,
      systemPrompt: SYSTEM,
      budget: { maxTokens: 1000 },
      summarize: async () => 'summary',
    });
    const count = prepared.summarized!.count;
    expect(cuts[count]).toBe(true);
    // the call and its result were summarised together, up to the next user turn
    expect(count).toBe(6);
    assertPairSafe(prepared.messages);
    expect(prepared.messages).toEqual(history.slice(6));
  });

  it('re-summarising hands the previous summary to the summariser and replaces it', async () => {
    const previous: SummaryEntry = {
      role: 'summary',
      content: 'Alice prefers tea. Budget is 42.',
      messages_summarized: 8,
      source_range: [0, 7],
    };
    const history: HistoryEntry[] = [previous, ...conversation(10)];
    let input: HistoryEntry[] = [];
    const prepared = await prepareContext({
      history,
      systemPrompt: SYSTEM,
      budget: { maxTokens: 4000 },
      summarize: async (entries) => {
        input = entries;
        return 'Alice prefers tea; budget 42; q0-q3 answered.';
      },
    });
    expect(input[0]).toEqual(previous);
    expect(renderTranscript(input)).toMatch(/^Previous summary: Alice prefers tea\. Budget is 42\./);
    const count = prepared.summarized!.count;
    expect(prepared.history.filter((e) => e.role === 'summary')).toHaveLength(1);
    expect(prepared.history[0]).toMatchObject({
      role: 'summary',
      messages_summarized: 8 + count,
      source_range: [0, count],
    });
    expect(prepared.system.startsWith(`${SUMMARY_HEADER}\nAlice prefers tea; budget 42`)).toBe(true);
    expect(prepared.system).not.toContain('Budget is 42.');
  });

  it('folds an existing summary even under the threshold', async () => {
    const history: HistoryEntry[] = [
      { role: 'summary', content: 'Earlier: X.', messages_summarized: 3, source_range: [0, 2] },
      user('hi', 5),
    ];
    const prepared = await prepareContext({
      history,
      systemPrompt: SYSTEM,
      budget: { maxTokens: 10_000 },
      summarize: async () => 'unused',
    });
    expect(prepared.changed).toBe(false);
    expect(prepared.system).toBe(`${SUMMARY_HEADER}\nEarlier: X.\n\n${SYSTEM}`);
    expect(prepared.messages).toEqual([user('hi', 5)]);
    expect(foldSummaries(history, SYSTEM)).toEqual({ system: prepared.system, messages: prepared.messages });
  });

  for (const [label, summarize] of [
    ['throws', () => Promise.reject(new Error('model overloaded'))],
    ['returns an empty summary', () => Promise.resolve('   ')],
  ] as const) {
    it(`when the summariser ${label}, drops the oldest whole turns until the estimate fits, and reports it`, async () => {
      const history = conversation(10);
      const budget = { maxTokens: 4000 };
      const archived: ArchiveRequest[] = [];
      const prepared = await prepareContext({
        history,
        systemPrompt: SYSTEM,
        budget,
        summarize,
        archive: (s) => archived.push(s),
      });
      expect(prepared.summarized).toBeUndefined();
      expect(prepared.fallback).toBeDefined();
      expect(prepared.fallback!.reason).toMatch(label === 'throws' ? /model overloaded/ : /empty summary/);
      const dropped = prepared.fallback!.dropped;
      expect(dropped).toBeGreaterThan(0);
      expect(prepared.messages).toEqual(history.slice(dropped));
      expect(prepared.history).toEqual(history.slice(dropped));
      assertPairSafe(prepared.messages);
      expect(prepared.estimate).toBeLessThanOrEqual(budget.maxTokens * 0.7);
      expect(prepared.estimate).toBeLessThanOrEqual(budget.maxTokens);
      // dropping one group fewer would not have fitted: only what had to go went
      const cuts = safeCuts(history);
      let previousCut = dropped - 1;
      while (previousCut > 0 && !cuts[previousCut]) previousCut--;
      expect(estimateTextTokens(SYSTEM) + estimateHistoryTokens(history.slice(previousCut))).toBeGreaterThan(
        budget.maxTokens * 0.7,
      );
      expect(archived).toEqual([
        { messages: history.slice(0, dropped), source_range: [0, dropped - 1], reason: 'dropped' },
      ]);
      expect(prepared.system).toBe(SYSTEM);
    });
  }

  it('keeps the previous summary when falling back', async () => {
    const previous: SummaryEntry = {
      role: 'summary',
      content: 'Keep me.',
      messages_summarized: 4,
      source_range: [0, 3],
    };
    const prepared = await prepareContext({
      history: [previous, ...conversation(10)],
      systemPrompt: SYSTEM,
      budget: { maxTokens: 4000 },
      summarize: () => Promise.reject(new Error('down')),
    });
    expect(prepared.history[0]).toEqual(previous);
    expect(prepared.system).toContain('Keep me.');
    expect(prepared.fallback!.dropped).toBeGreaterThan(0);
  });

  it('never drops the newest turn, even if it alone is over the budget', async () => {
    const history: HistoryEntry[] = [user('q0', 50), reply('a0', 50), user('huge', 5000)];
    const prepared = await prepareContext({
      history,
      systemPrompt: SYSTEM,
      budget: { maxTokens: 1000 },
      summarize: () => Promise.reject(new Error('down')),
    });
    expect(prepared.messages).toEqual([user('huge', 5000)]);
    expect(prepared.fallback?.dropped).toBe(2);
    expect(prepared.estimate).toBeGreaterThan(1000);
  });

  it('does not mutate its input and validates the threshold', async () => {
    const history = conversation(10);
    const copy = structuredClone(history);
    await prepareContext({ history, systemPrompt: SYSTEM, budget: { maxTokens: 4000 }, summarize: async () => 's' });
    expect(history).toEqual(copy);
    await expect(
      prepareContext({
        history,
        systemPrompt: SYSTEM,
        budget: { maxTokens: 4000 },
        threshold: 1.5,
        summarize: async () => 's',
      }),
    ).rejects.toMatchObject({ code: 'AAOS_ERR_CONFIG_INVALID' });
  });
});
