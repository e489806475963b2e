import type { CallContext } from '../audit/call-context.js';
import type { ModelPort } from '../kernel/ports.js';

export type OrchestrationMode = 'plan' | 'direct';

const SYSTEM = [
  'Decide how a goal should run. Answer with exactly one word.',
  'plan: the goal splits into independent steps that can run in parallel and be combined (fetch, read, compute, compare, transform, write).',
  'direct: open-ended investigation, reading code, hunting a bug, or anything one agent should pursue turn by turn.',
].join('\n');

/** The mode a classifier's answer names: the exact word first, then a word inside the answer; else direct. */
export function parseMode(answer: string): OrchestrationMode {
  const word = answer.trim().toLowerCase();
  if (word === 'plan' || word === 'decompose') return 'plan';
  if (word === 'direct') return 'direct';
  if (/\b(plan|decompose)\b/.test(word) && !/\bdirect\b/.test(word)) return 'plan';
  return 'direct';
}

/**
 * `orchestration: auto`: one model call classifies the goal. A failed call or an
 * answer that names neither mode means direct (the bootstrap agent), never an error.
 */
export async function classifyGoal(
  models: ModelPort,
  model: string,
  goal: string,
  caller: CallContext,
  signal: AbortSignal,
): Promise<{ mode: OrchestrationMode; answer: string }> {
  try {
    const response = await models.complete(
      caller,
      model,
      { system: SYSTEM, messages: [{ role: 'user', content: goal }], tools: [], max_tokens: 16, signal },
      { agent_id: caller.id, agent_name: caller.name, ...(caller.runId ? { run_id: caller.runId } : {}) },
    );
    const answer = response.content
      .filter((b) => b.type === 'text')
      .map((b) => (b as { text: string }).text)
      .join(' ');
    return { mode: parseMode(answer), answer };
  } catch (err) {
    return { mode: 'direct', answer: `classifier failed: ${(err as Error).message}` };
  }
}
