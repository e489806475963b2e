import { describe, expect, it } from 'vitest';
import { classifyGoal, parseMode } from '../../src/orchestration/classifier.js';
import type { ModelPort } from '../../src/kernel/ports.js';

const caller = { id: 'classifier-r', name: 'classifier', runId: 'r' };

function answering(text: string | Error): ModelPort & { calls: number } {
  const port = {
    calls: 0,
    registerAgent() {},
    releaseAgent() {},
    cancelAgent() {},
    maxContextTokens: () => 100_000,
    async complete() {
      port.calls++;
      if (text instanceof Error) throw text;
      return {
        content: [{ type: 'text' as const, text }],
        stop_reason: 'end_turn' as const,
        usage: { input_tokens: 1, output_tokens: 1 },
        model: 'm',
      };
    },
  };
  return port;
}

describe('orchestration: auto', () => {
  it('reads the exact word first, then a word inside the answer; anything else is direct', () => {
    expect(parseMode(' Plan ')).toBe('plan');
    expect(parseMode('decompose')).toBe('plan');
    expect(parseMode('direct')).toBe('direct');
    expect(parseMode('I would plan this.')).toBe('plan');
    expect(parseMode('plan or direct, hard to say')).toBe('direct');
    expect(parseMode('¯\\_(ツ)_/¯')).toBe('direct');
  });

  it('makes exactly one model call, and a failed call means direct, never an error', async () => {
    const ok = answering('plan');
    expect(
      (await classifyGoal(ok, 'm', 'fetch three pages and compare them', caller, new AbortController().signal)).mode,
    ).toBe('plan');
    expect(ok.calls).toBe(1);
    const broken = answering(new Error('provider down'));
    const out = await classifyGoal(broken, 'm', 'goal', caller, new AbortController().signal);
    expect(out.mode).toBe('direct');
    expect(out.answer).toContain('provider down');
  });
});
