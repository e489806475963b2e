import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../src/context/history-entry.js';
import { safeCuts } from '../../src/context/tool-pairs.js';
import { trimHistory } from '../../src/store/trim-history.js';

// compact notation: u=user, a=assistant text, T(ids)=assistant tool_use, r(id)=tool_result, s=summary
const u = (n: number): HistoryEntry => ({ role: 'user', content: `u${n}` });
const a = (n: number): HistoryEntry => ({ role: 'assistant', content: [{ type: 'text', text: `a${n}` }] });
const T = (...ids: string[]): HistoryEntry => ({
  role: 'assistant',
  content: [
    { type: 'text', text: 'calling' },
    ...ids.map((id) => ({ type: 'tool_use' as const, id, name: 'x', input: {} })),
  ],
});
const r = (id: string): HistoryEntry => ({ role: 'tool_result', tool_use_id: id, content: id, is_error: false });
const s: HistoryEntry = { role: 'summary', content: 'earlier', messages_summarized: 4, source_range: [0, 3] };

/** Every kept tool_result's tool_use is kept too, and the kept part starts with a user turn. */
function assertPairSafe(kept: HistoryEntry[]): void {
  const body = kept.filter((e) => e.role !== 'summary');
  if (body.length > 0) expect(body[0]?.role).toBe('user');
  const uses = new Set<string>();
  for (const e of body) {
    if (e.role === 'assistant') for (const b of e.content) if (b.type === 'tool_use') uses.add(b.id);
    if (e.role === 'tool_result') expect(uses.has(e.tool_use_id)).toBe(true);
  }
}

const cases: Array<{ name: string; history: HistoryEntry[]; max: number; expected: HistoryEntry[] }> = [
  { name: 'short history is kept whole', history: [u(1), a(1)], max: 5, expected: [u(1), a(1)] },
  {
    name: 'plain trim keeps the newest max',
    history: [u(1), a(1), u(2), a(2), u(3)],
    max: 3,
    expected: [u(2), a(2), u(3)],
  },
  {
    name: 'a cut landing on a tool_result moves on to the next user turn',
    history: [u(1), T('x'), r('x'), a(1), u(2)],
    max: 3,
    expected: [u(2)],
  },
  {
    name: 'a cut right after a tool_use moves past its results',
    history: [u(1), a(1), T('x'), r('x'), u(2)],
    max: 2,
    expected: [u(2)],
  },
  {
    name: 'parallel tool calls: a turn longer than max is not kept in part',
    history: [u(1), T('x', 'y'), r('x'), r('y'), a(1)],
    max: 2,
    expected: [],
  },
  {
    name: 'the group is kept whole with the user turn that asked for it',
    history: [u(1), T('x', 'y'), r('x'), r('y'), a(1), u(2), a(2)],
    max: 4,
    expected: [u(2), a(2)],
  },
  {
    name: 'results answered out of order still stay with their call',
    history: [u(1), T('p', 'q'), r('q'), r('p'), u(2)],
    max: 3,
    expected: [u(2)],
  },
  {
    name: 'an orphan tool_result (its call long gone) is never kept at the front',
    history: [r('ghost'), u(1), a(1)],
    max: 3,
    expected: [u(1), a(1)],
  },
  {
    name: 'an orphan in the middle pins the cut after it',
    history: [u(1), a(1), r('ghost'), u(2), a(2)],
    max: 4,
    expected: [u(2), a(2)],
  },
  { name: 'max 0 keeps nothing', history: [u(1), a(1)], max: 0, expected: [] },
  {
    name: 'the only valid tail is empty when the end is an unfinished pair cut',
    history: [u(1), T('x'), r('x')],
    max: 1,
    expected: [],
  },
  {
    name: 'a pending tool_use at the end is kept',
    history: [u(1), a(1), u(2), T('z')],
    max: 2,
    expected: [u(2), T('z')],
  },
  {
    name: 'leading summaries are kept and not counted',
    history: [s, u(1), a(1), u(2), a(2)],
    max: 2,
    expected: [s, u(2), a(2)],
  },
];

describe('trimHistory', () => {
  for (const c of cases) {
    it(c.name, () => {
      const kept = trimHistory(c.history, c.max);
      expect(kept).toEqual(c.expected);
      expect(kept.filter((e) => e.role !== 'summary').length).toBeLessThanOrEqual(c.max);
      if (kept.length > 0) assertPairSafe(kept);
    });
  }

  it('never splits a pair for any max over a long mixed history', () => {
    const history: HistoryEntry[] = [];
    for (let i = 0; i < 30; i++) {
      history.push(u(i));
      if (i % 3 === 0) history.push(T(`a${i}`, `b${i}`), r(`b${i}`), r(`a${i}`));
      if (i % 4 === 1) history.push(T(`c${i}`), r(`c${i}`));
      history.push(a(i));
    }
    for (let max = 0; max <= history.length + 1; max++) {
      const kept = trimHistory(history, max);
      expect(kept.length).toBeLessThanOrEqual(max);
      expect(kept).toEqual(history.slice(history.length - kept.length));
      if (kept.length > 0) assertPairSafe(kept);
    }
  });

  it('safeCuts marks exactly the boundaries that keep pairs whole', () => {
    expect(safeCuts([u(1), T('x'), r('x'), a(1)])).toEqual([true, false, false, false, true]);
    expect(safeCuts([u(1), a(1), u(2), T('x'), r('x'), a(2), u(3)])).toEqual([
      true,
      false,
      true,
      false,
      false,
      false,
      true,
      true,
    ]);
  });
});
