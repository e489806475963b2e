import { describe, expect, it } from 'vitest';
import { resumeTranscript } from '../../src/kernel/resume-transcript.js';
import type { JournalEntry } from '../../src/store/run-journal.js';

const idempotent = (tool: string): boolean => tool === 'file_read';
const call = (id: string, name: string) => ({ type: 'tool_use' as const, id, name, input: {} });

describe('resume from the run journal', () => {
  it('keeps completed calls, re-makes idempotent in-flight and never-started calls, reports the rest as interrupted', () => {
    const entries: JournalEntry[] = [
      { kind: 'assistant', content: [{ type: 'text', text: 'first' }, call('w1', 'file_write')] },
      { kind: 'tool_started', tool_use_id: 'w1', name: 'file_write' },
      { kind: 'tool_result', tool_use_id: 'w1', content: 'wrote', is_error: false },
      { kind: 'assistant', content: [call('r1', 'file_read'), call('w2', 'file_write'), call('n1', 'file_write')] },
      { kind: 'tool_started', tool_use_id: 'r1', name: 'file_read' },
      { kind: 'tool_started', tool_use_id: 'w2', name: 'file_write' },
    ];
    const plan = resumeTranscript('the goal', entries, idempotent);
    expect(plan.modelTurns).toBe(2);
    expect(plan.pending.map((c) => c.id)).toEqual(['r1', 'n1']);
    expect(plan.interrupted).toHaveLength(1);
    expect(plan.interrupted[0]).toMatchObject({
      tool_use_id: 'w2',
      is_error: true,
      content: expect.stringMatching(
        /^AAOS_ERR_TOOL_INTERRUPTED: the call to 'file_write' was running when the daemon stopped/,
      ),
    });
    expect(plan.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool_result', 'assistant', 'tool_result']);
    expect(plan.messages[0]).toEqual({ role: 'user', content: 'the goal' });
  });

  it('a run whose last turn was answered owes nothing; a result journaled twice counts once', () => {
    const entries: JournalEntry[] = [
      { kind: 'assistant', content: [call('a', 'file_write')] },
      { kind: 'tool_started', tool_use_id: 'a', name: 'file_write' },
      { kind: 'tool_result', tool_use_id: 'a', content: 'ok', is_error: false },
      { kind: 'tool_result', tool_use_id: 'a', content: 'ok', is_error: false },
      { kind: 'assistant', content: [{ type: 'text', text: 'done' }] },
    ];
    const plan = resumeTranscript('g', entries, idempotent);
    expect(plan.pending).toEqual([]);
    expect(plan.interrupted).toEqual([]);
    expect(plan.messages.filter((m) => m.role === 'tool_result')).toHaveLength(1);
  });
});
